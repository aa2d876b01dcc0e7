/* The fold of a batch's event structs and its time (its guard instances: _ingestlatest.h; the
   adds into the window totals: _ingestadd.h): part of _ingestnative.c (included there after the shared helpers; setup.py
   lists the headers beside a kernel as its depends, so `make native` rebuilds after an edit). */

static int
int_field(PyObject *v, int64_t *out)
{
    if (v == Py_None) {
        *out = 0;
        return 0;
    }
    if (!PyLong_CheckExact(v)) {  /* a bool or an int subclass: the Python path decides */
        PyErr_SetString(PyExc_TypeError, "fold: an int field holds another type");
        return -1;
    }
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C long");
        return -1;
    }
    if (x == -1 && PyErr_Occurred())
        return -1;
    *out = (int64_t)x;
    return 0;
}

/* The truth of a plain value (a bool, None, a tuple or list), without running Python code:
   anything else is refused (TypeError) and the Python path decides, so nothing a kernel call
   reads can change under it. */
static int
truth(PyObject *v)
{
    if (v == Py_True)
        return 1;
    if (v == Py_False || v == Py_None)
        return 0;
    if (PyTuple_CheckExact(v))
        return PyTuple_GET_SIZE(v) > 0;
    if (PyList_CheckExact(v))
        return PyList_GET_SIZE(v) > 0;
    PyErr_SetString(PyExc_TypeError, "fold: a flag or list field holds another type");
    return -1;
}

/* One side's check of one call into row r; a violation with categories is appended to odd as
   (index, side, categories). Returns -1 on error. */
static int
check_side(PyObject *c, int64_t *row, int out, Py_ssize_t i, PyObject *side, PyObject *odd)
{
    if (c == Py_None)
        return 0;
    if (!Py_IS_TYPE(c, check_type)) {
        PyErr_SetString(PyExc_TypeError, "fold: a check of another type");
        return -1;
    }
    PyObject *blocked = SLOT(c, ck_off[C_BLOCKED]), *cats = SLOT(c, ck_off[C_CATEGORIES]);
    PyObject *masked = SLOT(c, ck_off[C_MASKED]), *refused = SLOT(c, ck_off[C_REFUSED]);
    PyObject *comp = SLOT(c, ck_off[C_COMPLIANCE]);
    if (!blocked || !cats || !masked || !refused || !comp) {
        PyErr_SetString(PyExc_TypeError, "fold: a check with an unset field");
        return -1;
    }
    int b = truth(blocked), has_cats = truth(cats), m = truth(masked);
    if (b < 0 || has_cats < 0 || m < 0)
        return -1;
    int bad = b || has_cats;
    if (out) {
        row[col[K_OUT_CHECKED]] = 1;
        row[col[K_OUT_VIOL]] = bad;
        row[col[K_OUT_BLOCKED]] = b;
        row[col[K_OUT_MASKED]] = m;
        row[col[K_OUT_JUDGED]] = comp != Py_None;
        row[col[K_OUT_COMPLIANCE]] = comp == Py_True;
        row[col[K_OUT_ANSWER_REFUSED]] = refused == Py_True;
    } else {
        row[col[K_IN_CHECKED]] = 1;
        row[col[K_IN_VIOL]] = bad;
    }
    if (bad && has_cats) {
        PyObject *t = Py_BuildValue("(nOO)", i, side, cats);
        if (t == NULL || PyList_Append(odd, t) < 0) {
            Py_XDECREF(t);
            return -1;
        }
        Py_DECREF(t);
    }
    return 0;
}

PyDoc_STRVAR(fold_doc,
"fold(events, counts, lat, lat_rows) -> (n_latencies, odd)\n\n"
"Counters of each event into row i of counts (int64, n x ncol, zeroed by the caller); each\n"
"call's latency into lat[k] (float64) with its index in lat_rows[k] (int64); odd: (index,\n"
"side, categories) of each violation with categories, the 'in' side first.");

static PyObject *
fold(PyObject *self, PyObject *args)
{
    PyObject *events, *counts_obj, *lat_obj, *rows_obj;
    if (!PyArg_ParseTuple(args, "O!OOO", &PyList_Type, &events, &counts_obj, &lat_obj, &rows_obj))
        return NULL;
    if (event_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fold: bind() first");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(events);
    Py_buffer cv, lv, rv;
    if (get_buffer(counts_obj, &cv, n * ncol * 8, 1, "counts") < 0)
        return NULL;
    if (get_buffer(lat_obj, &lv, n * 8, 1, "lat") < 0) {
        PyBuffer_Release(&cv);
        return NULL;
    }
    if (get_buffer(rows_obj, &rv, n * 8, 1, "lat_rows") < 0) {
        PyBuffer_Release(&cv);
        PyBuffer_Release(&lv);
        return NULL;
    }
    int64_t *counts = (int64_t *)cv.buf, *lat_rows = (int64_t *)rv.buf;
    double *lat = (double *)lv.buf;
    Py_ssize_t nlat = 0;
    PyObject *odd_in = PyList_New(0), *odd_out = PyList_New(0);
    PyObject *s_in = PyUnicode_InternFromString("in"), *s_out = PyUnicode_InternFromString("out");
    if (!odd_in || !odd_out || !s_in || !s_out)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(events, i);
        if (!Py_IS_TYPE(e, event_type)) {
            PyErr_SetString(PyExc_TypeError, "fold: an event of another type");
            goto fail;
        }
        for (int f = 0; f < NF; f++) {
            if (SLOT(e, ev_off[f]) == NULL) {
                PyErr_SetString(PyExc_TypeError, "fold: an event with an unset field");
                goto fail;
            }
        }
        int64_t *row = counts + i * ncol;
        int64_t tin, tout;
        /* every event's tokens are converted, as the numpy path converts the whole column */
        if (int_field(SLOT(e, ev_off[F_TIN]), &tin) < 0 || int_field(SLOT(e, ev_off[F_TOUT]), &tout) < 0)
            goto fail;
        PyObject *type = SLOT(e, ev_off[F_TYPE]);
        if (type != members[M_CALL]) {
            if (type == members[M_COMPLAINT])
                row[col[K_COMPLAINTS]] = 1;
            else if (type == members[M_FACTUAL])
                row[col[K_FACTUAL]] = 1;
            else if (type == members[M_NOTE])
                row[col[K_NOTES]] = 1;
            else if (type == members[M_SIGNAL])
                row[col[K_SIGNALS]] = 1;
            continue;
        }
        row[col[K_CALLS]] = 1;
        PyObject *st = SLOT(e, ev_off[F_STATUS]), *rt = SLOT(e, ev_off[F_ROUTE]);
        int refused_route = rt == members[M_RT_REFUSED];
        row[col[K_REFUSALS]] = st == members[M_ST_REFUSED] || refused_route;
        row[col[K_ERRORS]] = !refused_route && (st == members[M_UP_ERROR] || st == members[M_UP_TIMEOUT]);
        row[col[K_BACKUP]] = rt == members[M_BACKUP];
        int fs = truth(SLOT(e, ev_off[F_FAILSAFE]));
        if (fs < 0)
            goto fail;
        row[col[K_FAILSAFE]] = fs;
        row[col[K_TIN]] = tin;
        row[col[K_TOUT]] = tout;
        if (check_side(SLOT(e, ev_off[F_INPUT]), row, 0, i, s_in, odd_in) < 0 ||
            check_side(SLOT(e, ev_off[F_OUTPUT]), row, 1, i, s_out, odd_out) < 0)
            goto fail;
        PyObject *l = SLOT(e, ev_off[F_LATENCY]);
        if (l != Py_None) {
            double v;
            if (PyFloat_CheckExact(l))
                v = PyFloat_AS_DOUBLE(l);
            else if (PyLong_CheckExact(l)) {
                v = PyLong_AsDouble(l);
                if (v == -1.0 && PyErr_Occurred())
                    goto fail;
            } else {
                PyErr_SetString(PyExc_TypeError, "fold: a latency of another type");
                goto fail;
            }
            lat[nlat] = v;
            lat_rows[nlat++] = i;
        }
    }
    PyBuffer_Release(&cv);
    PyBuffer_Release(&lv);
    PyBuffer_Release(&rv);
    Py_DECREF(s_in);
    Py_DECREF(s_out);
    if (PyList_SetSlice(odd_in, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, odd_out) < 0) {
        Py_DECREF(odd_in);
        Py_DECREF(odd_out);
        return NULL;
    }
    Py_DECREF(odd_out);
    PyObject *res = Py_BuildValue("(nN)", nlat, odd_in);
    return res;
fail:
    PyBuffer_Release(&cv);
    PyBuffer_Release(&lv);
    PyBuffer_Release(&rv);
    Py_XDECREF(odd_in);
    Py_XDECREF(odd_out);
    Py_XDECREF(s_in);
    Py_XDECREF(s_out);
    return NULL;
}

PyDoc_STRVAR(same_instant_doc,
"same_instant(events) -> datetime | None\n\n"
"The first event's time when every event's time is a datetime with the same fields and the\n"
"same tzinfo object (so the same instant: min and max of the times are equal to it); None\n"
"otherwise, and the caller compares them (a batch from one guard carries one time).");

static PyObject *
same_instant(PyObject *self, PyObject *events)
{
    if (!PyList_Check(events) || event_type == NULL) {
        PyErr_SetString(PyExc_TypeError, "same_instant: a list of events, after bind()");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(events);
    if (n == 0)
        Py_RETURN_NONE;
    PyObject *first = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(events, i);
        if (!Py_IS_TYPE(e, event_type)) {
            PyErr_SetString(PyExc_TypeError, "same_instant: an event of another type");
            return NULL;
        }
        PyObject *t = SLOT(e, ev_off[F_TIME]);
        if (t == NULL || !PyDateTime_CheckExact(t))
            Py_RETURN_NONE;
        if (first == NULL) {
            first = t;
            continue;
        }
        if (t == first)
            continue;
        if (PyDateTime_DATE_GET_TZINFO(t) != PyDateTime_DATE_GET_TZINFO(first) ||
            PyDateTime_DATE_GET_MICROSECOND(t) != PyDateTime_DATE_GET_MICROSECOND(first) ||
            PyDateTime_DATE_GET_SECOND(t) != PyDateTime_DATE_GET_SECOND(first) ||
            PyDateTime_DATE_GET_MINUTE(t) != PyDateTime_DATE_GET_MINUTE(first) ||
            PyDateTime_DATE_GET_HOUR(t) != PyDateTime_DATE_GET_HOUR(first) ||
            PyDateTime_GET_DAY(t) != PyDateTime_GET_DAY(first) || PyDateTime_GET_MONTH(t) != PyDateTime_GET_MONTH(first) ||
            PyDateTime_GET_YEAR(t) != PyDateTime_GET_YEAR(first) ||
            PyDateTime_DATE_GET_FOLD(t) != PyDateTime_DATE_GET_FOLD(first))
            Py_RETURN_NONE;
    }
    return Py_NewRef(first);
}
