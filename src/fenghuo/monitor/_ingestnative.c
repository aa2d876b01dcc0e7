/* The per-event work of a batch spread over many services, in one C pass each (issue 19).

Why C: a batch of 1,000 events over 1,000 services is read field by field in Python
(``colfold._per_event``: a ``map`` of an attrgetter per field, ``list.count`` per value,
numpy columns per test) and the guard instances are zipped into tuples per event
(``instances.latest_of``); measured ~1.0 and ~0.4 ms of a ~6.7 ms batch. Here each event
struct is read once, through the slot offsets of msgspec's member descriptors (the struct
type is checked exactly first), and the counters are written straight into the numpy matrix
the Python path fills. The windows' and summaries' ``total[rows] += counts`` (gather, add,
scatter over a temporary in numpy) is one loop here, and so is the alert rules' screen of
threshold groups (``alerts/screen.py``: ~10 numpy calls over services x groups matrices).

The Python/numpy paths stay as the reference and the fallback (FENGHUO_NATIVE=0, or no
compiler); tests/monitor/test_ingest_native.py holds both to the same ``Folded`` batches,
instances and window totals. Anything unexpected (another type, a missing slot, an int that
does not fit int64) raises, and the caller takes the Python path, which decides.

Only the CPython buffer protocol is used (no numpy headers).
*/
/* The screen's baselines must round exactly as numpy's separate multiply and add do: no fused
   multiply-add (x86-64's baseline has none; this keeps it so with other flags too). */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <datetime.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

/* event fields, in the order bind() is given their descriptors */
enum { F_TYPE, F_INSTANCE, F_STATE, F_VERSION, F_FAILSAFE, F_ROUTE, F_STATUS, F_LATENCY, F_TIN, F_TOUT,
       F_INPUT, F_OUTPUT, F_SERVICE, F_TIME, NF };
/* check fields */
enum { C_BLOCKED, C_CATEGORIES, C_MASKED, C_REFUSED, C_COMPLIANCE, NCF };
/* enum members: type call / complaint / factual_error / operator_note / external_signal,
   status refused / upstream_error / upstream_timeout, route refused / backup */
enum { M_CALL, M_COMPLAINT, M_FACTUAL, M_NOTE, M_SIGNAL, M_ST_REFUSED, M_UP_ERROR, M_UP_TIMEOUT, M_RT_REFUSED,
       M_BACKUP, NM };
/* columns of the counters matrix */
enum { K_CALLS, K_REFUSALS, K_ERRORS, K_BACKUP, K_FAILSAFE, K_IN_CHECKED, K_IN_VIOL, K_OUT_CHECKED, K_OUT_VIOL,
       K_OUT_BLOCKED, K_COMPLAINTS, K_FACTUAL, K_NOTES, K_SIGNALS, K_TIN, K_TOUT, K_OUT_MASKED, K_OUT_JUDGED,
       K_OUT_ANSWER_REFUSED, K_OUT_COMPLIANCE, NK };

static PyTypeObject *event_type = NULL, *check_type = NULL;
static Py_ssize_t ev_off[NF], ck_off[NCF];
static PyObject *members[NM];
static Py_ssize_t col[NK];
static Py_ssize_t ncol = 0;

static int
offsets(PyTypeObject *type, PyObject *names, Py_ssize_t *out, Py_ssize_t n)
{
    if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) != n) {
        PyErr_SetString(PyExc_ValueError, "bind: wrong number of field names");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyObject_GetAttr((PyObject *)type, PyTuple_GET_ITEM(names, i));
        if (d == NULL)
            return -1;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            Py_DECREF(d);
            PyErr_SetString(PyExc_TypeError, "bind: a field is not a slot");
            return -1;
        }
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX && m->type != T_OBJECT) {
            Py_DECREF(d);
            PyErr_SetString(PyExc_TypeError, "bind: a field is not an object slot");
            return -1;
        }
        out[i] = m->offset;
        Py_DECREF(d);
    }
    return 0;
}

static PyObject *
bind(PyObject *self, PyObject *args)
{
    PyObject *et, *ct, *enames, *cnames, *mems, *cols;
    Py_ssize_t nc;
    if (!PyArg_ParseTuple(args, "O!O!OOOOn", &PyType_Type, &et, &PyType_Type, &ct, &enames, &cnames, &mems, &cols, &nc))
        return NULL;
    if (offsets((PyTypeObject *)et, enames, ev_off, NF) < 0 || offsets((PyTypeObject *)ct, cnames, ck_off, NCF) < 0)
        return NULL;
    if (!PyTuple_Check(mems) || PyTuple_GET_SIZE(mems) != NM || !PyTuple_Check(cols) || PyTuple_GET_SIZE(cols) != NK) {
        PyErr_SetString(PyExc_ValueError, "bind: wrong number of members or columns");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < NK; i++) {
        col[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(cols, i));
        if (col[i] < 0 || col[i] >= nc) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "bind: column out of range");
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < NM; i++) {
        Py_XDECREF(members[i]);
        members[i] = Py_NewRef(PyTuple_GET_ITEM(mems, i));
    }
    Py_XDECREF(event_type);
    Py_XDECREF(check_type);
    event_type = (PyTypeObject *)Py_NewRef(et);
    check_type = (PyTypeObject *)Py_NewRef(ct);
    ncol = nc;
    Py_RETURN_NONE;
}

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

static int
get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t bytes, int writable, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->len < bytes) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, need %zd", what, view->len, bytes);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* an optional non-negative int field as int64 (None: 0); -1 with OverflowError if it does not fit */
static int
int_field(PyObject *v, int64_t *out)
{
    if (v == Py_None) {
        *out = 0;
        return 0;
    }
    if (!PyLong_Check(v)) {
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

static int
truth(PyObject *v)
{
    if (v == Py_True)
        return 1;
    if (v == Py_False || v == Py_None)
        return 0;
    return PyObject_IsTrue(v);
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
            double v = PyFloat_Check(l) ? PyFloat_AS_DOUBLE(l) : PyFloat_AsDouble(l);
            if (v == -1.0 && PyErr_Occurred())
                goto fail;
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

PyDoc_STRVAR(latest_doc,
"latest(events, t) -> dict | None\n\n"
"{(service, instance): (t, state_version, state, failsafe)} of a batch whose events all have\n"
"the time t, the later event winning; events without an instance are left out; None when no\n"
"event names an instance (as instances.latest_of).");

static PyObject *
latest(PyObject *self, PyObject *args)
{
    PyObject *events, *t;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &events, &PyFloat_Type, &t))
        return NULL;
    if (event_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "latest: bind() first");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(events);
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    int any = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(events, i);
        if (!Py_IS_TYPE(e, event_type)) {
            PyErr_SetString(PyExc_TypeError, "latest: an event of another type");
            goto fail;
        }
        PyObject *svc = SLOT(e, ev_off[F_SERVICE]), *inst = SLOT(e, ev_off[F_INSTANCE]);
        PyObject *ver = SLOT(e, ev_off[F_VERSION]), *state = SLOT(e, ev_off[F_STATE]), *fs = SLOT(e, ev_off[F_FAILSAFE]);
        if (!svc || !inst || !ver || !state || !fs) {
            PyErr_SetString(PyExc_TypeError, "latest: an event with an unset field");
            goto fail;
        }
        if (inst == Py_None)
            continue;
        any = 1;
        PyObject *key = PyTuple_Pack(2, svc, inst);
        PyObject *val = key ? PyTuple_Pack(4, t, ver, state, fs) : NULL;
        if (val == NULL || PyDict_SetItem(out, key, val) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(val);
            goto fail;
        }
        Py_DECREF(key);
        Py_DECREF(val);
    }
    if (!any) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}



/* Tuples of plain values (str, int, float, bool, None) hold no reference cycles: the cyclic
   collector stops tracking them the first time it looks at them anyway. Untracked at once, a
   batch's 2,000 new tuples do not make every young collection walk them. */
static void
untrack_plain(PyObject *t)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(t); i++) {
        PyObject *x = PyTuple_GET_ITEM(t, i);
        if (!(x == Py_None || PyUnicode_CheckExact(x) || PyLong_CheckExact(x) || PyFloat_CheckExact(x) || PyBool_Check(x)))
            return;
    }
    if (PyObject_GC_IsTracked(t))
        PyObject_GC_UnTrack(t);
}

PyDoc_STRVAR(merge_latest_doc,
"merge_latest(events, t, latest, pending) -> bool\n\n"
"InstanceStore.merge of a batch whose events all have the time t, when nothing held is later:\n"
"latest[(service, instance)] = (t, state_version, state, failsafe) for each event naming an\n"
"instance, in order (the later event wins); a key not held before is appended to pending once.\n"
"Answers whether some event named an instance.");

static PyObject *
merge_latest(PyObject *self, PyObject *args)
{
    PyObject *events, *t, *held, *pending;
    if (!PyArg_ParseTuple(args, "O!O!O!O!", &PyList_Type, &events, &PyFloat_Type, &t, &PyDict_Type, &held,
                          &PyList_Type, &pending))
        return NULL;
    if (event_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "merge_latest: bind() first");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(events);
    for (Py_ssize_t i = 0; i < n; i++) {  /* checked first: nothing is merged from a batch refused */
        PyObject *e = PyList_GET_ITEM(events, i);
        if (!Py_IS_TYPE(e, event_type) || !SLOT(e, ev_off[F_SERVICE]) || !SLOT(e, ev_off[F_INSTANCE]) ||
            !SLOT(e, ev_off[F_VERSION]) || !SLOT(e, ev_off[F_STATE]) || !SLOT(e, ev_off[F_FAILSAFE])) {
            PyErr_SetString(PyExc_TypeError, "merge_latest: an event of another type or with an unset field");
            return NULL;
        }
    }
    int any = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(events, i);
        PyObject *inst = SLOT(e, ev_off[F_INSTANCE]);
        if (inst == Py_None)
            continue;
        any = 1;
        PyObject *key = PyTuple_Pack(2, SLOT(e, ev_off[F_SERVICE]), inst);
        if (key == NULL)
            return NULL;
        Py_hash_t h = PyObject_Hash(key);
        if (h == -1) {
            Py_DECREF(key);
            return NULL;
        }
        int have = _PyDict_Contains_KnownHash(held, key, h);
        PyObject *val = have < 0 ? NULL : PyTuple_Pack(4, t, SLOT(e, ev_off[F_VERSION]), SLOT(e, ev_off[F_STATE]),
                                                       SLOT(e, ev_off[F_FAILSAFE]));
        if (val != NULL) {
            untrack_plain(key);
            untrack_plain(val);
        }
        if (val == NULL || (!have && PyList_Append(pending, key) < 0) || _PyDict_SetItem_KnownHash(held, key, val, h) < 0) {
            Py_DECREF(key);
            Py_XDECREF(val);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(val);
    }
    return PyBool_FromLong(any);
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

PyDoc_STRVAR(scatter_add_doc,
"scatter_add(total, width, rows, counts, k, sign)\n\n"
"total[rows[i], :k] += sign * counts[i, :k] for every i (total: int64 rows x width; counts:\n"
"int64 len(rows) x k, k <= width). Rows must be distinct for numpy's fancy add to agree; here\n"
"repeated rows simply add twice. A row outside total raises IndexError before anything is added.");

static PyObject *
scatter_add(PyObject *self, PyObject *args)
{
    PyObject *total_obj, *rows_obj, *counts_obj;
    Py_ssize_t width, k;
    int sign;
    if (!PyArg_ParseTuple(args, "OnOOni", &total_obj, &width, &rows_obj, &counts_obj, &k, &sign))
        return NULL;
    if (k < 0 || k > width || width <= 0) {
        PyErr_SetString(PyExc_ValueError, "scatter_add: bad widths");
        return NULL;
    }
    Py_buffer tv, rv, cv;
    if (PyObject_GetBuffer(total_obj, &tv, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(rows_obj, &rv, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&tv);
        return NULL;
    }
    Py_ssize_t n = rv.len / 8, cap = tv.len / 8 / width;
    if (get_buffer(counts_obj, &cv, n * k * 8, 0, "counts") < 0) {
        PyBuffer_Release(&tv);
        PyBuffer_Release(&rv);
        return NULL;
    }
    int64_t *total = (int64_t *)tv.buf, *counts = (int64_t *)cv.buf;
    const int64_t *rows = (const int64_t *)rv.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rows[i] < 0 || rows[i] >= cap) {
            PyErr_Format(PyExc_IndexError, "scatter_add: row %lld outside %zd rows", (long long)rows[i], cap);
            PyBuffer_Release(&tv);
            PyBuffer_Release(&rv);
            PyBuffer_Release(&cv);
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t *t = total + rows[i] * width;
        const int64_t *c = counts + i * k;
        if (sign >= 0)
            for (Py_ssize_t j = 0; j < k; j++)
                t[j] += c[j];
        else
            for (Py_ssize_t j = 0; j < k; j++)
                t[j] -= c[j];
    }
    PyBuffer_Release(&tv);
    PyBuffer_Release(&rv);
    PyBuffer_Release(&cv);
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
    for (Py_ssize_t i = 0; i < n; i++) {
        if (maybe[i])
            continue;
        const double *lrow = loose + sigs[i] * G;
        for (Py_ssize_t g = 0; g < G; g++) {
            Py_ssize_t k = read[g];
            int64_t s = ((const int64_t *)vv[nread + k].buf)[i], m = gmin[g];
            if (m > s || (m > 0 && s == 0))
                continue;
            double v = ((const double *)vv[k].buf)[i], t = lrow[g];
            int hit;
            switch (gop[g]) {
            case 0: hit = v > t; break;
            case 1: hit = v >= t; break;
            case 2: hit = v < t; break;
            default: hit = v <= t; break;
            }
            if (hit) {
                maybe[i] = 1;
                break;
            }
        }
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

static PyMethodDef methods[] = {
    {"bind", bind, METH_VARARGS,
     "bind(event_type, check_type, event_fields, check_fields, members, columns, ncol): see colfold.py."},
    {"fold", fold, METH_VARARGS, fold_doc},
    {"latest", latest, METH_VARARGS, latest_doc},
    {"merge_latest", merge_latest, METH_VARARGS, merge_latest_doc},
    {"same_instant", same_instant, METH_O, same_instant_doc},
    {"scatter_add", scatter_add, METH_VARARGS, scatter_add_doc},
    {"gather_columns", gather_columns, METH_VARARGS, gather_columns_doc},
    {"screen_groups", screen_groups, METH_VARARGS, screen_groups_doc},
    {"screen_change", screen_change, METH_VARARGS, screen_change_doc},
    {"screen_learn", screen_learn, METH_VARARGS, screen_learn_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ingestnative_module = {
    PyModuleDef_HEAD_INIT, "_ingestnative",
    "The per-event fold, guard-instance states and window adds of ingest in C (see _ingestnative.c).", -1, methods,
};

PyMODINIT_FUNC
PyInit__ingestnative(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    return PyModule_Create(&ingestnative_module);
}
