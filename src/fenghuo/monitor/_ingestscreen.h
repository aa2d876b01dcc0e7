/* The alert rules' screen (alerts/screen.py, screen_state.py) in C: the columns it reads, its
   threshold groups, its change rules and their learning. Part of _ingestnative.c (included
   there after the shared helpers; setup.py lists the headers beside a kernel as its depends,
   so `make native` rebuilds after an edit). */

PyDoc_STRVAR(gather_columns_doc,
"gather_columns(total, width, rows, cols, out)\n\n"
"out[j, i] = total[rows[i], cols[j]] (total: int64 rows x width; out: int64 len(cols) x\n"
"len(rows)): the columns the rules' screen reads, for the screened rows, in one pass. A row\n"
"or column outside total raises IndexError before anything is written.");

static PyObject *
gather_columns(PyObject *self, PyObject *args)
{
    PyObject *total_obj, *rows_obj, *cols_obj, *out_obj;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "OnOOO", &total_obj, &width, &rows_obj, &cols_obj, &out_obj))
        return NULL;
    if (width <= 0) {
        PyErr_SetString(PyExc_ValueError, "gather_columns: bad width");
        return NULL;
    }
    Py_buffer tv, rv, cv, ov;
    if (PyObject_GetBuffer(total_obj, &tv, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (PyObject_GetBuffer(rows_obj, &rv, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&tv);
        return NULL;
    }
    if (PyObject_GetBuffer(cols_obj, &cv, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&tv);
        PyBuffer_Release(&rv);
        return NULL;
    }
    Py_ssize_t n = rv.len / 8, m = cv.len / 8, cap = tv.len / 8 / width;
    if (get_buffer(out_obj, &ov, n * m * 8, 1, "out") < 0) {
        PyBuffer_Release(&tv);
        PyBuffer_Release(&rv);
        PyBuffer_Release(&cv);
        return NULL;
    }
    const int64_t *total = tv.buf, *rows = rv.buf, *cols = cv.buf;
    int64_t *out = ov.buf;
    int bad = 0;
    for (Py_ssize_t i = 0; i < n && !bad; i++)
        bad = rows[i] < 0 || rows[i] >= cap;
    for (Py_ssize_t j = 0; j < m && !bad; j++)
        bad = cols[j] < 0 || cols[j] >= width;
    if (bad)
        PyErr_SetString(PyExc_IndexError, "gather_columns: a row or column outside total");
    else
        for (Py_ssize_t i = 0; i < n; i++) {
            const int64_t *row = total + rows[i] * width;
            for (Py_ssize_t j = 0; j < m; j++)
                out[j * n + i] = row[cols[j]];
        }
    PyBuffer_Release(&tv);
    PyBuffer_Release(&rv);
    PyBuffer_Release(&cv);
    PyBuffer_Release(&ov);
    if (bad)
        return NULL;
    Py_RETURN_NONE;
}

/* a list of n-element 1-D buffers of one item type ('d' float64 or 'q'/'l' int64) */
static int
column_list(PyObject *list, Py_buffer *views, Py_ssize_t count, Py_ssize_t n, char kind, const char *what)
{
    if (!PyList_Check(list) || PyList_GET_SIZE(list) != count) {
        PyErr_Format(PyExc_ValueError, "%s: expected a list of %zd columns", what, count);
        return -1;
    }
    for (Py_ssize_t j = 0; j < count; j++) {
        Py_buffer *v = &views[j];
        if (PyObject_GetBuffer(PyList_GET_ITEM(list, j), v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            goto fail;
        const char *f = v->format ? v->format : "B";
        if (*f == '<' || *f == '=' || *f == '@')
            f++;
        int ok = v->itemsize == 8 && v->len == n * 8 &&
                 (kind == 'd' ? (f[0] == 'd' && f[1] == 0) : ((f[0] == 'q' || f[0] == 'l') && f[1] == 0));
        if (!ok) {
            PyBuffer_Release(v);
            PyErr_Format(PyExc_TypeError, "%s: a column of another type or length", what);
            goto fail;
        }
        continue;
    fail:
        for (Py_ssize_t i = 0; i < j; i++)
            PyBuffer_Release(&views[i]);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(screen_groups_doc,
"screen_groups(vals, samples, grp_read, grp_min, grp_op, loose, sigs, maybe)\n\n"
"The rules' screen of threshold groups (alerts/screen.py) for n services: maybe[i] |= some group\n"
"g with enough samples (not grp_min[g] > s and not (grp_min[g] > 0 and s == 0), s =\n"
"samples[grp_read[g]][i]) whose value vals[grp_read[g]][i] passes its op (grp_op: 0 >, 1 >=,\n"
"2 <, 3 <=) against loose[sigs[i], g]. vals: float64 columns, samples: int64 columns, one per\n"
"read; the same comparisons numpy makes, one row at a time.");

static PyObject *
screen_groups(PyObject *self, PyObject *args)
{
    PyObject *vals_l, *samples_l, *read_o, *min_o, *op_o, *loose_o, *sigs_o, *maybe_o;
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &vals_l, &samples_l, &read_o, &min_o, &op_o, &loose_o, &sigs_o, &maybe_o))
        return NULL;
    if (!PyList_Check(vals_l)) {
        PyErr_SetString(PyExc_TypeError, "screen_groups: vals must be a list");
        return NULL;
    }
    Py_ssize_t nread = PyList_GET_SIZE(vals_l);
    Py_buffer rd, mn, op, lo, sg, mb;
    Py_buffer *vv = NULL;
    int got = 0;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(read_o, &rd, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    got = 1;
    Py_ssize_t G = rd.len / 8;
    if (get_buffer(min_o, &mn, G * 8, 0, "grp_min") < 0)
        goto done;
    got = 2;
    if (get_buffer(op_o, &op, G * 8, 0, "grp_op") < 0)
        goto done;
    got = 3;
    if (PyObject_GetBuffer(loose_o, &lo, PyBUF_C_CONTIGUOUS) < 0)
        goto done;
    got = 4;
    if (PyObject_GetBuffer(sigs_o, &sg, PyBUF_C_CONTIGUOUS) < 0)
        goto done;
    got = 5;
    Py_ssize_t n = sg.len / 8, nsig = G ? lo.len / 8 / G : 0;
    if (get_buffer(maybe_o, &mb, n, 1, "maybe") < 0)
        goto done;
    got = 6;
    vv = PyMem_Calloc(2 * (nread ? nread : 1), sizeof(Py_buffer));
    if (vv == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (column_list(vals_l, vv, nread, n, 'd', "vals") < 0)
        goto done;
    got = 7;
    if (column_list(samples_l, vv + nread, nread, n, 'q', "samples") < 0)
        goto done;
    got = 8;
    const int64_t *read = rd.buf, *gmin = mn.buf, *gop = op.buf, *sigs = sg.buf;
    const double *loose = lo.buf;
    char *maybe = mb.buf;
    for (Py_ssize_t g = 0; g < G; g++) {
        if (read[g] < 0 || read[g] >= nread || gop[g] < 0 || gop[g] > 3) {
            PyErr_SetString(PyExc_ValueError, "screen_groups: a group's read or op out of range");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (sigs[i] < 0 || sigs[i] >= nsig) {
            PyErr_SetString(PyExc_IndexError, "screen_groups: a rule set outside loose");
            goto done;
        }
    }
    /* a group at a time over the rows (maybe only grows, so the order of the tests does not
       change it): the op and the columns fixed for the inner loop, which then runs without a
       switch or an indirect column load per test (issue 19, session 23: ~2x on 21 groups) */
    for (Py_ssize_t g = 0; g < G; g++) {
        Py_ssize_t k = read[g];
        const int64_t *S = vv[nread + k].buf, m = gmin[g];
        const double *V = vv[k].buf, *lg = loose + g;
#define GROUP_PASS(CMP) \
        for (Py_ssize_t i = 0; i < n; i++) { \
            int64_t s = S[i]; \
            if (maybe[i] || m > s || (m > 0 && s == 0)) \
                continue; \
            if (V[i] CMP lg[sigs[i] * G]) \
                maybe[i] = 1; \
        }
        switch (gop[g]) {
        case 0: GROUP_PASS(>) break;
        case 1: GROUP_PASS(>=) break;
        case 2: GROUP_PASS(<) break;
        default: GROUP_PASS(<=) break;
        }
#undef GROUP_PASS
    }
    res = Py_NewRef(Py_None);
done:
    if (got >= 8)
        for (Py_ssize_t j = 0; j < nread; j++)
            PyBuffer_Release(&vv[nread + j]);
    if (got >= 7)
        for (Py_ssize_t j = 0; j < nread; j++)
            PyBuffer_Release(&vv[j]);
    PyMem_Free(vv);
    if (got >= 6) PyBuffer_Release(&mb);
    if (got >= 5) PyBuffer_Release(&sg);
    if (got >= 4) PyBuffer_Release(&lo);
    if (got >= 3) PyBuffer_Release(&op);
    if (got >= 2) PyBuffer_Release(&mn);
    if (got >= 1) PyBuffer_Release(&rd);
    return res;
}


/* a buffer of exactly n items of 8 bytes ('d' or an int64 code), or of n bytes (kind 'b') */
static int
typed(PyObject *obj, Py_buffer *v, Py_ssize_t n, char kind, int writable, const char *what)
{
    if (PyObject_GetBuffer(obj, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    const char *f = v->format ? v->format : "B";
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    int ok = f[1] == 0 && (kind == 'd' ? f[0] == 'd' && v->itemsize == 8 :
                           kind == 'q' ? (f[0] == 'q' || f[0] == 'l') && v->itemsize == 8 :
                           f[0] == '?' && v->itemsize == 1);
    if (!ok || v->len < n * v->itemsize) {
        PyBuffer_Release(v);
        PyErr_Format(PyExc_TypeError, "%s: another type or too short", what);
        return -1;
    }
    return 0;
}

/* a buffer taken in order (released in reverse at done:), or a jump there */
#define TAKE(call) do { if ((call) < 0) goto done; got++; } while (0)

static double
np_max(double a, double b)  /* np.maximum: NaN if either is NaN */
{
    if (isnan(a) || isnan(b))
        return NAN;
    return a >= b ? a : b;
}

PyDoc_STRVAR(screen_change_doc,
"screen_change(x, samples, applies, j, sigs, rows, generation, mean, var, n, last, gen,\n"
"              min_samples, warmup, zscore, direction, now, step, maybe, ok)\n\n"
"One change rule of the screen (alerts/screen.py) for the screened rows: a row whose baseline\n"
"belongs to an earlier owner (gen != generation) starts again (as _Arrays.at); maybe[i] |= the\n"
"rule applies, has its samples, is warm and its z-score holds (direction 1 up, -1 down, 0\n"
"both); ok[i] = it applies with its samples, does not hold, and its baseline is due (now - last\n"
">= step). The same float operations as the numpy form, a row at a time.");

static PyObject *
screen_change(PyObject *self, PyObject *args)
{
    PyObject *o[12], *maybe_o, *ok_o;
    Py_ssize_t j, min_samples, warmup;
    double zscore, now, step;
    int direction;
    if (!PyArg_ParseTuple(args, "OOOnOOOOOOOOnndiddOO", &o[0], &o[1], &o[2], &j, &o[3], &o[4], &o[5], &o[6], &o[7],
                          &o[8], &o[9], &o[10], &min_samples, &warmup, &zscore, &direction, &now, &step, &maybe_o, &ok_o))
        return NULL;
    Py_buffer xv, sv, av, gv, rv, genv, mv, vv, nv, lv, gnv, mbv, okv;
    Py_buffer *all[13] = {&xv, &sv, &av, &gv, &rv, &genv, &mv, &vv, &nv, &lv, &gnv, &mbv, &okv};
    int got = 0;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(o[4], &rv, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    Py_ssize_t n = rv.len / 8;
    PyBuffer_Release(&rv);
    TAKE(typed(o[0], &xv, n, 'd', 0, "x"));
    TAKE(typed(o[1], &sv, n, 'q', 0, "samples"));
    TAKE(typed(o[2], &av, 0, 'b', 0, "applies"));
    TAKE(typed(o[3], &gv, n, 'q', 0, "sigs"));
    TAKE(typed(o[4], &rv, n, 'q', 0, "rows"));
    TAKE(typed(o[5], &genv, 0, 'q', 0, "generation"));
    Py_ssize_t size = genv.len / 8;
    TAKE(typed(o[6], &mv, size, 'd', 1, "mean"));
    TAKE(typed(o[7], &vv, size, 'd', 1, "var"));
    TAKE(typed(o[8], &nv, size, 'q', 1, "n"));
    TAKE(typed(o[9], &lv, size, 'd', 1, "last"));
    TAKE(typed(o[10], &gnv, size, 'q', 1, "gen"));
    TAKE(typed(maybe_o, &mbv, n, 'b', 1, "maybe"));
    TAKE(typed(ok_o, &okv, n, 'b', 1, "ok"));
    {
        PyObject *shape = PyObject_GetAttrString(o[2], "shape");
        Py_ssize_t nrules = -1;
        if (shape != NULL && PyTuple_Check(shape) && PyTuple_GET_SIZE(shape) == 2)
            nrules = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, 1));
        Py_XDECREF(shape);
        if (nrules < 0 || j < 0 || j >= nrules) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "screen_change: applies must be a 2-D matrix holding rule j");
            goto done;
        }
        Py_ssize_t nsig = av.len / nrules;
        const double *x = xv.buf;
        const int64_t *samples = sv.buf, *sigs = gv.buf, *rows = rv.buf, *generation = genv.buf;
        const char *applies = av.buf;
        double *mean = mv.buf, *var = vv.buf, *last = lv.buf;
        int64_t *nn = nv.buf, *gen = gnv.buf;
        char *maybe = mbv.buf, *ok = okv.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (rows[i] < 0 || rows[i] >= size || sigs[i] < 0 || sigs[i] >= nsig) {
                PyErr_SetString(PyExc_IndexError, "screen_change: a row or rule set out of range");
                goto done;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t r = rows[i];
            if (gen[r] != generation[r]) {
                mean[r] = 0.0;
                var[r] = 0.0;
                nn[r] = 0;
                last[r] = -INFINITY;
                gen[r] = generation[r];
            }
            int64_t s = samples[i];
            int valid = applies[sigs[i] * nrules + j] && !(s < min_samples || (min_samples > 0 && s == 0));
            int warm = nn[r] >= warmup;
            double sd = sqrt(var[r]);
            double floor_ = np_max(1e-9, 0.01 * fabs(mean[r]));
            double z = (x[i] - mean[r]) / np_max(sd, floor_);
            int hold = direction > 0 ? z > zscore : direction < 0 ? z < -zscore : fabs(z) > zscore;
            if (valid && warm && hold)
                maybe[i] = 1;
            ok[i] = valid && !(warm && hold) && (now - last[r] >= step);
        }
    }
    res = Py_NewRef(Py_None);
done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(all[k]);
    return res;
}

PyDoc_STRVAR(screen_learn_doc,
"screen_learn(rows, x, ok, maybe, mean, var, n, last, alpha, now)\n\n"
"Baseline.update of a change rule for each row i with ok[i] and not maybe[i] (as\n"
"_Arrays.update: the first value sets the mean, then exponentially weighted mean and variance).");

static PyObject *
screen_learn(PyObject *self, PyObject *args)
{
    PyObject *o[8];
    double alpha, now;
    if (!PyArg_ParseTuple(args, "OOOOOOOOdd", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &alpha, &now))
        return NULL;
    Py_buffer rv, xv, okv, mbv, mv, vv, nv, lv;
    Py_buffer *all[8] = {&rv, &xv, &okv, &mbv, &mv, &vv, &nv, &lv};
    int got = 0;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(o[0], &rv, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    Py_ssize_t n = rv.len / 8;
    PyBuffer_Release(&rv);
    TAKE(typed(o[0], &rv, n, 'q', 0, "rows"));
    TAKE(typed(o[1], &xv, n, 'd', 0, "x"));
    TAKE(typed(o[2], &okv, n, 'b', 0, "ok"));
    TAKE(typed(o[3], &mbv, n, 'b', 0, "maybe"));
    TAKE(typed(o[4], &mv, 0, 'd', 1, "mean"));
    Py_ssize_t size = mv.len / 8;
    TAKE(typed(o[5], &vv, size, 'd', 1, "var"));
    TAKE(typed(o[6], &nv, size, 'q', 1, "n"));
    TAKE(typed(o[7], &lv, size, 'd', 1, "last"));
    {
        const int64_t *rows = rv.buf;
        const double *x = xv.buf;
        const char *ok = okv.buf, *maybe = mbv.buf;
        double *mean = mv.buf, *var = vv.buf, *last = lv.buf;
        int64_t *nn = nv.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (ok[i] && !maybe[i] && (rows[i] < 0 || rows[i] >= size)) {
                PyErr_SetString(PyExc_IndexError, "screen_learn: a row out of range");
                goto done;
            }
        }
        double keep = 1 - alpha;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!ok[i] || maybe[i])
                continue;
            int64_t r = rows[i];
            double d = x[i] - mean[r], incr = alpha * d;
            if (nn[r] == 0) {
                mean[r] = x[i];
                var[r] = 0.0;
            } else {
                mean[r] = mean[r] + incr;
                var[r] = keep * (var[r] + d * incr);
            }
            nn[r] += 1;
            last[r] = now;
        }
    }
    res = Py_NewRef(Py_None);
done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(all[k]);
    return res;
}

