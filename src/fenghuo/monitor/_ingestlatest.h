/* The latest state of each guard instance in a batch (instances.latest_of: ``latest``) and
its merge straight into the store (InstanceStore.merge_events: ``merge_latest``). Out of
_ingestfold.h (the per-event fold) as its own idea; uses its SLOT offsets (bind). */

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
        if (!svc || !inst || !ver || !state || !fs || !PyUnicode_CheckExact(svc) ||
            (inst != Py_None && !PyUnicode_CheckExact(inst))) {
            PyErr_SetString(PyExc_TypeError, "latest: an event with an unset field or a key that is not a plain str");
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
static inline int
plain(PyObject *x)
{
    return x == Py_None || PyUnicode_CheckExact(x) || PyLong_CheckExact(x) || PyFloat_CheckExact(x) || PyBool_Check(x);
}

static void
untrack_plain(PyObject *t)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(t); i++) {
        if (!plain(PyTuple_GET_ITEM(t, i)))
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
            !SLOT(e, ev_off[F_VERSION]) || !SLOT(e, ev_off[F_STATE]) || !SLOT(e, ev_off[F_FAILSAFE]) ||
            !PyUnicode_CheckExact(SLOT(e, ev_off[F_SERVICE])) ||
            (SLOT(e, ev_off[F_INSTANCE]) != Py_None && !PyUnicode_CheckExact(SLOT(e, ev_off[F_INSTANCE])))) {
            PyErr_SetString(PyExc_TypeError, "merge_latest: an event of another type or with an unset field");
            return NULL;
        }
    }
    int any = 0;
    /* The key tuple is reused while nothing else holds it (the usual: the key was held already,
       only looked up): its two items are replaced instead of a tuple made and freed per event,
       ~0.15 M of ~1.3 M instructions a 1,000-service batch (callgrind). A key the store or
       pending took is theirs; the next event makes a new one. No Python code runs in between. */
    PyObject *key = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(events, i);
        PyObject *inst = SLOT(e, ev_off[F_INSTANCE]);
        if (inst == Py_None)
            continue;
        any = 1;
        PyObject *svc = SLOT(e, ev_off[F_SERVICE]);
        if (key != NULL && Py_REFCNT(key) == 1) {
            PyObject *was0 = PyTuple_GET_ITEM(key, 0), *was1 = PyTuple_GET_ITEM(key, 1);
            PyTuple_SET_ITEM(key, 0, Py_NewRef(svc));
            PyTuple_SET_ITEM(key, 1, Py_NewRef(inst));
            Py_DECREF(was0);
            Py_DECREF(was1);
        } else {
            Py_XDECREF(key);
            key = PyTuple_Pack(2, svc, inst);
            if (key == NULL)
                return NULL;
        }
        Py_hash_t h = PyObject_Hash(key);
        if (h == -1)
            goto fail;
        PyObject *prev = _PyDict_GetItem_KnownHash(held, key, h);  /* borrowed */
        if (prev == NULL && PyErr_Occurred())
            goto fail;
        PyObject *now[4] = {t, SLOT(e, ev_off[F_VERSION]), SLOT(e, ev_off[F_STATE]), SLOT(e, ev_off[F_FAILSAFE])};
        if (prev != NULL && PyTuple_CheckExact(prev) && PyTuple_GET_SIZE(prev) == 4 && Py_REFCNT(prev) == 1 &&
            !PyObject_GC_IsTracked(prev) && plain(now[1]) && plain(now[2]) && plain(now[3]) &&
            plain(PyTuple_GET_ITEM(prev, 0)) && plain(PyTuple_GET_ITEM(prev, 1)) && plain(PyTuple_GET_ITEM(prev, 2)) &&
            plain(PyTuple_GET_ITEM(prev, 3))) {
            /* Held by the store alone (no reader has it) and untracked: the new state is written
               into it instead of a new tuple per event and freeing the one it replaced (issue 19).
               Old and new items are plain objects: freeing one runs no Python code. */
            for (int k = 0; k < 4; k++) {
                PyObject *was = PyTuple_GET_ITEM(prev, k);
                PyTuple_SET_ITEM(prev, k, Py_NewRef(now[k]));
                Py_DECREF(was);
            }
            continue;
        }
        int have = prev != NULL;
        PyObject *val = PyTuple_Pack(4, now[0], now[1], now[2], now[3]);
        if (val != NULL) {
            untrack_plain(key);
            untrack_plain(val);
        }
        if (val == NULL || (!have && PyList_Append(pending, key) < 0) || _PyDict_SetItem_KnownHash(held, key, val, h) < 0) {
            Py_XDECREF(val);
            goto fail;
        }
        Py_DECREF(val);
    }
    Py_XDECREF(key);
    return PyBool_FromLong(any);
fail:
    Py_XDECREF(key);
    return NULL;
}
