/* The rules' screen (alerts/screen.py) in C, continued from _ingestscreen.h: its latency rules
   and its ratio reads, each one pass over the screened rows instead of ~10 and ~3 numpy calls
   on 1,000-element arrays (issue 19, session 23: the four latency rules of the default packs
   were ~110 us of a ~2.8 ms spread batch in-process, the eight reads ~90 us besides their
   gathers). Part of _ingestnative.c (included after _ingestscreen.h, whose `typed` and TAKE
   it uses). */

PyDoc_STRVAR(screen_latency_doc,
"screen_latency(n, c, applies, j, sigs, min_samples, q, up, maybe)\n\n"
"One latency-quantile rule of the screen (alerts/screen.py) for the screened rows: n[i] the\n"
"latencies in the window, c[i] those at or above the screened bin (int64); maybe[i] |= the rule\n"
"applies (applies[sigs[i], j]), has its samples (not n < min_samples and not (min_samples > 0\n"
"and n == 0)) and below = n - c passes the rank (up: below <= q * (n - 1) + 1, else below >\n"
"q * (n - 1) - 1), compared as float64, as the numpy form compares them.");

static PyObject *
screen_latency(PyObject *self, PyObject *args)
{
    PyObject *n_o, *c_o, *app_o, *sigs_o, *maybe_o;
    Py_ssize_t j, min_samples;
    double q;
    int up;
    if (!PyArg_ParseTuple(args, "OOOnOndpO", &n_o, &c_o, &app_o, &j, &sigs_o, &min_samples, &q, &up, &maybe_o))
        return NULL;
    Py_buffer nv, cv, av, gv, mbv;
    Py_buffer *all[5] = {&nv, &cv, &av, &gv, &mbv};
    int got = 0;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(sigs_o, &gv, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    Py_ssize_t n = gv.len / 8;
    PyBuffer_Release(&gv);
    TAKE(typed(n_o, &nv, n, 'q', 0, "n"));
    TAKE(typed(c_o, &cv, n, 'q', 0, "c"));
    TAKE(typed(app_o, &av, 0, 'b', 0, "applies"));
    TAKE(typed(sigs_o, &gv, n, 'q', 0, "sigs"));
    TAKE(typed(maybe_o, &mbv, n, 'b', 1, "maybe"));
    {
        PyObject *shape = PyObject_GetAttrString(app_o, "shape");
        Py_ssize_t nrules = -1;
        if (shape != NULL && PyTuple_Check(shape) && PyTuple_GET_SIZE(shape) == 2)
            nrules = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, 1));
        Py_XDECREF(shape);
        if (nrules <= 0 || j < 0 || j >= nrules) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "screen_latency: applies must be a 2-D matrix holding rule j");
            goto done;
        }
        Py_ssize_t nsig = av.len / nrules;
        const int64_t *nn = nv.buf, *cc = cv.buf, *sigs = gv.buf;
        const char *applies = av.buf;
        char *maybe = mbv.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (sigs[i] < 0 || sigs[i] >= nsig) {
                PyErr_SetString(PyExc_IndexError, "screen_latency: a rule set outside applies");
                goto done;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (maybe[i] || !applies[sigs[i] * nrules + j])
                continue;
            int64_t s = nn[i];
            if (s < min_samples || (min_samples > 0 && s == 0))
                continue;
            double rank = q * (double)(s - 1);  /* numpy: float * int64 array -> float64 */
            double below = (double)(s - cc[i]);  /* int64 difference, then compared as float64 */
            if (up ? below <= rank + 1.0 : below > rank - 1.0)
                maybe[i] = 1;
        }
    }
    res = Py_NewRef(Py_None);
done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(all[k]);
    return res;
}

PyDoc_STRVAR(screen_ratio_doc,
"screen_ratio(num, den, out)\n\n"
"out[i] = num[i] / den[i] as float64 where den[i] != 0, else 0.0 (num, den: int64; out: float64):\n"
"the screen's ratio reads, as np.divide(num, den, out=zeros, where=den != 0).");

static PyObject *
screen_ratio(PyObject *self, PyObject *args)
{
    PyObject *num_o, *den_o, *out_o;
    if (!PyArg_ParseTuple(args, "OOO", &num_o, &den_o, &out_o))
        return NULL;
    Py_buffer xv, dv, ov;
    Py_buffer *all[3] = {&xv, &dv, &ov};
    int got = 0;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(den_o, &dv, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    Py_ssize_t n = dv.len / 8;
    PyBuffer_Release(&dv);
    TAKE(typed(num_o, &xv, n, 'q', 0, "num"));
    TAKE(typed(den_o, &dv, n, 'q', 0, "den"));
    TAKE(typed(out_o, &ov, n, 'd', 1, "out"));
    if (xv.len != n * 8 || ov.len != n * 8) {
        PyErr_SetString(PyExc_ValueError, "screen_ratio: columns of different lengths");
        goto done;
    }
    {
        const int64_t *num = xv.buf, *den = dv.buf;
        double *out = ov.buf;
        for (Py_ssize_t i = 0; i < n; i++)
            out[i] = den[i] != 0 ? (double)num[i] / (double)den[i] : 0.0;
    }
    res = Py_NewRef(Py_None);
done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(all[k]);
    return res;
}
