/* The per-event work of a batch spread over many services, in one C pass each (issue 19).

Why C: a batch of 1,000 events over 1,000 services is read field by field in Python
(``colfold._per_event``: a ``map`` of an attrgetter per field, ``list.count`` per value,
numpy columns per test) and the guard instances are zipped into tuples per event
(``instances.latest_of``); measured ~1.0 and ~0.4 ms of a ~6.7 ms batch. Here each event
struct is read once, through the slot offsets of msgspec's member descriptors (the struct
type is checked exactly first), and the counters are written straight into the numpy matrix
the Python path fills (_ingestfold.h: ``fold``; also the guard instances of a one-instant
batch merged straight into the store, ``merge_latest``; whether a batch is one instant,
``same_instant``; ``total[rows] += counts`` of the windows and summaries, ``scatter_add`` in _ingestadd.h,
which numpy does as gather, add and scatter through a temporary). The alert rules' screen
(alerts/screen.py) ran ~100 small numpy calls per batch; its threshold groups, change rules
and their learning, and the columns it reads are loops here (_ingestscreen.h), as are its
latency rules and ratio reads (_ingestscreenreads.h). The directory's
id -> slot lookups of a batch are one pass over an inline-key table (_ingestslots.h). The batch
itself is decoded from its JSON into the event structs here when it has the usual shape
(_ingestjson.h: values, _ingestdecode.h: events), or left to msgspec; its ids are checked
against and added to the dedup set in one pass (_ingestseen.h; UUID ids as 16-byte keys of a
table of their own, _ingestuuidset.h), and packed for its durable row (_ingestuuid.h).

The Python/numpy paths stay as the reference and the fallback (FENGHUO_NATIVE=0, or no
compiler); tests/monitor/test_ingest_native.py holds both to the same ``Folded`` batches,
instances, window totals, screened services and baselines, and two whole ingest runs to the
same indicators, warnings and summaries. Anything unexpected (another type, a missing
slot, an int that does not fit int64, a field that is not a plain bool, int, float, str,
tuple or list) raises, and the caller takes the Python path, which decides; so the kernel
runs no Python code while it reads a batch, and nothing can change under it.

Only the CPython C API is used (the buffer protocol for numpy's arrays, the datetime API):
no numpy headers.
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
#include <stdlib.h>
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
#include "_ingestfold.h"
#include "_ingestlatest.h"
#include "_ingestadd.h"
#include "_ingestscreen.h"
#include "_ingestscreenreads.h"
#include "_ingestslots.h"
#include "_ingestjson.h"
#include "_ingestnumber.h"
#include "_ingestobject.h"
#include "_ingestprobe.h"
#include "_ingestdecode.h"
#include "_ingestseen.h"
#include "_ingestuuid.h"
#include "_ingestuuidset.h"

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
    {"screen_latency", screen_latency, METH_VARARGS, screen_latency_doc},
    {"screen_ratio", screen_ratio, METH_VARARGS, screen_ratio_doc},
    {"slot_table_build", slot_table_build, METH_VARARGS, slot_table_build_doc},
    {"slot_lookup", slot_lookup, METH_VARARGS, slot_lookup_doc},
    {"bind_decoder", bind_decoder, METH_VARARGS,
     "bind_decoder(event_type, check_type, event_fields, check_fields, enum_members, unset): see native.py."},
    {"decode_batch", decode_batch, METH_VARARGS, decode_batch_doc},
    {"seen_admit", seen_admit, METH_VARARGS, seen_admit_doc},
    {"pack_uuids", pack_uuids, METH_O, pack_uuids_doc},
    {"unpack_uuids", unpack_uuids, METH_O, unpack_uuids_doc},
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
    if (PyType_Ready(&UuidSetType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&ingestnative_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "UuidSet", (PyObject *)&UuidSetType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
