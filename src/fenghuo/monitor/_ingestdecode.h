/* A JSON array of events decoded straight into WireEvent structs (issue 19), included by
   _ingestnative.c after its readers: values (_ingestjson.h, _ingestnumber.h), the objects and
   the check (_ingestobject.h), the state events share and the count of distinct slots
   (_ingestprobe.h); each event's directory slot is looked up after the parse, the batch's
   lookups in one prefetched pass (_ingestslots.h: slots_find).

Why not msgspec alone: its generic decoder spends ~1 us per event of a 1,000-event batch
(field lookup, constraint checks, then a fresh object for every string, datetime, check and
default), a quarter of the server's CPU per spread batch. This decoder knows the one shape:
keys matched by length and bytes, and what a batch repeats is made once per batch (the time
string, instance, state and model of consecutive events, a check that found nothing), so an
event costs its struct, its id, its service and its latency. Immutable objects only are
shared; nothing in ingest writes into an event or a check.

Why not a JSON library (yyjson, simdjson): they build their own tree, which would still have
to be walked and validated into the structs; the validation is the work.

Conservative by design: it answers None for anything it is not sure it reads exactly as
msgspec would (an escape in a string, a key it does not know or seen twice, a number in
another form, a time not in UTC or with more than 6 digits of fraction, attributes, a wrong
type, a broken document), and wire.decode_events then decodes the body as before, naming
every bad event with msgspec's own message. So an error is never written here, and a batch
this decoder accepts is equal, field by field, to msgspec's decoding of it
(tests/monitor/test_decode_native.py compares both on random and broken documents).
*/

static PyObject *
event_value(Cur *c, Shared *sh)
{
    int more = open_object(c);
    if (more < 0)
        return NULL;
    PyObject *vals[ND] = {NULL};
    int k = -1;
    while (more == 1) {
        int got = key_of(c, d_names, d_nlen, ND, sh->next[k + 1]);
        if (got >= 0)
            sh->next[k + 1] = got;
        k = got;
        if (k < 0 || vals[k] != NULL)
            goto fail;
        switch (k) {
        case D_ID:
            vals[k] = str_value(c, 1, 64);
            break;
        case D_SERVICE:  /* a guard's batch names one service: one str, its hash computed once */
            vals[k] = str_shared(c, &sh->service, 1, 64);
            break;
        case D_TYPE:
            vals[k] = enum_value(c, E_TYPE, 0);
            break;
        case D_TIME:
            vals[k] = time_value(c, &sh->time);
            break;
        case D_INSTANCE:
        case D_STATE:
        case D_MODEL:
        case D_DETAIL: {
            Last *last = k == D_INSTANCE ? &sh->instance : k == D_STATE ? &sh->state : k == D_MODEL ? &sh->model : NULL;
            Py_ssize_t maxlen = k == D_INSTANCE ? 128 : k == D_DETAIL ? 4000 : -1;
            if (c->p < c->end && *c->p == 'n')
                vals[k] = literal(c) == 0 ? Py_NewRef(Py_None) : NULL;
            else
                vals[k] = last ? str_shared(c, last, 0, maxlen) : str_value(c, 0, maxlen);
            break;
        }
        case D_VERSION:
        case D_TIN:
        case D_TOUT:
            vals[k] = uint_value(c);
            break;
        case D_FAILSAFE:
            vals[k] = bool_value(c, 0);
            break;
        case D_LABEL:
        case D_STREAM:
            vals[k] = bool_value(c, 1);
            break;
        case D_ROUTE:
            vals[k] = enum_value(c, E_ROUTE, 1);
            break;
        case D_REFUSAL:
            vals[k] = enum_value(c, E_REFUSAL, 1);
            break;
        case D_STATUS:
            vals[k] = enum_value(c, E_STATUS, 1);
            break;
        case D_LATENCY:
            vals[k] = ufloat_value(c);
            break;
        case D_INPUT:
        case D_OUTPUT:
            vals[k] = check_value(c, &sh->plain);
            break;
        default:  /* attributes: msgspec's */
            vals[k] = NULL;
        }
        if (vals[k] == NULL || (more = next_member(c)) < 0)
            goto fail;
    }
    if (!vals[D_ID] || !vals[D_TYPE] || !vals[D_SERVICE] || !vals[D_TIME])
        goto fail;  /* required: msgspec names the missing one */
    for (int i = 0; i < ND; i++)
        if (vals[i] == NULL)
            vals[i] = Py_NewRef(i == D_FAILSAFE ? Py_False : i == D_ATTRIBUTES ? d_unset : Py_None);
    return new_struct(d_event, vals, d_off, ND);
fail:
    for (int i = 0; i < ND; i++)
        Py_CLEAR(vals[i]);
    return NULL;
}

static PyObject *
decode_batch(PyObject *self, PyObject *args)
{
    PyObject *body, *table_obj = Py_None, *names = Py_None;
    if (!PyArg_ParseTuple(args, "O|OO", &body, &table_obj, &names))
        return NULL;
    if (d_event == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "decode_batch: bind_decoder first");
        return NULL;
    }
    int with_table = table_obj != Py_None;
    if (with_table && !PyList_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "decode_batch: the directory's ids as a list");
        return NULL;
    }
    Py_buffer view, tv = {0};
    const slot_entry *tab = NULL;
    Py_ssize_t tcap = 0;
    if (PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Cur c = {(const char *)view.buf, (const char *)view.buf + view.len};
    Shared sh;
    memset(&sh, 0, sizeof sh);
    for (int i = 0; i <= ND; i++)
        sh.next[i] = i;  /* until an event says otherwise: the fields' own order */
    PyObject *out = NULL, *ids = NULL, *services = NULL, *slot_bytes = NULL;
    if (with_table) {
        if (PyObject_GetBuffer(table_obj, &tv, PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
        tcap = tv.len / (Py_ssize_t)sizeof(slot_entry);
        if (tcap < 1 || (tcap & (tcap - 1)) != 0) {
            PyErr_SetString(PyExc_ValueError, "decode_batch: not a slot table");
            PyBuffer_Release(&tv);
            PyBuffer_Release(&view);
            return NULL;
        }
        tab = (const slot_entry *)tv.buf;
        if ((ids = PyList_New(0)) == NULL || (services = PyList_New(0)) == NULL)
            goto fallback;
    }
    out = PyList_New(0);
    if (out == NULL)
        goto fallback;
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '[')
        goto fallback;
    c.p++;
    skip_ws(&c);
    if (c.p < c.end && *c.p == ']') {
        c.p++;
    } else {
        for (;;) {
            skip_ws(&c);
            PyObject *e = event_value(&c, &sh);
            if (e == NULL)
                goto fallback;
            int bad = PyList_Append(out, e);
            if (!bad && with_table) {
                /* the columns ingest reads first, taken while the event is at hand */
                bad = PyList_Append(ids, SLOT(e, d_off[D_ID])) < 0 || PyList_Append(services, SLOT(e, d_off[D_SERVICE])) < 0;
            }
            Py_DECREF(e);
            if (bad)
                goto fallback;
            skip_ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                continue;
            }
            if (c.p < c.end && *c.p == ']') {
                c.p++;
                break;
            }
            goto fallback;
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        goto fallback;
    PyBuffer_Release(&view);
    if (!with_table)
        return out;
    /* each event's slot, looked up after the parse: the lookups of the whole batch in one pass
       prefetch their table entries ahead (slots_find), where a lookup as each service was read
       waited for its entry's line */
    Py_ssize_t n = PyList_GET_SIZE(services), missing = 0, distinct = 0;
    slot_bytes = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (slot_bytes != NULL) {
        int64_t *slots = (int64_t *)PyByteArray_AS_STRING(slot_bytes);
        missing = slots_find(tab, tcap, names, PySequence_Fast_ITEMS(services), n, slots, 1);
        if (missing == 0 && (distinct = distinct_slots(slots, n)) < 0)
            PyErr_NoMemory();
    }
    PyBuffer_Release(&tv);
    if (slot_bytes == NULL || missing < 0 || distinct < 0) {
        Py_XDECREF(slot_bytes);
        Py_DECREF(out);
        Py_DECREF(ids);
        Py_DECREF(services);
        return NULL;
    }
    return Py_BuildValue("NNNNnn", out, ids, services, slot_bytes, missing, distinct);
fallback:
    PyErr_Clear();
    Py_XDECREF(out);
    Py_XDECREF(ids);
    Py_XDECREF(services);
    if (with_table)
        PyBuffer_Release(&tv);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(decode_batch_doc,
"decode_batch(body[, table, names]) -> list[WireEvent] | tuple | None: a JSON array of events as msgspec's\n"
"list[WireEvent] decoding gives it, or None for anything this decoder does not read (then msgspec\n"
"decides and names errors). With the directory's slot table and ids (_ingestslots.h): (events, their ids,\n"
"their services, each one's slot as int64 bytes (-1: not known), how many are not known, how many distinct\n"
"slots when all are known).");

static PyObject *
bind_decoder(PyObject *self, PyObject *args)
{
    PyObject *et, *ct, *enames, *cnames, *enums, *unset;
    if (!PyArg_ParseTuple(args, "O!O!OOOO", &PyType_Type, &et, &PyType_Type, &ct, &enames, &cnames, &enums, &unset))
        return NULL;
    if (PyType_IS_GC((PyTypeObject *)et) || PyType_IS_GC((PyTypeObject *)ct)) {
        PyErr_SetString(PyExc_TypeError, "bind_decoder: the structs must be gc=False");
        return NULL;
    }
    if (offsets((PyTypeObject *)et, enames, d_off, ND) < 0 || offsets((PyTypeObject *)ct, cnames, dc_off, NDC) < 0)
        return NULL;
    for (int i = 0; i < ND; i++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(enames, i), d_names[i]) != 0) {
            PyErr_SetString(PyExc_ValueError, "bind_decoder: event fields out of order");
            return NULL;
        }
    for (int i = 0; i < NDC; i++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(cnames, i), dc_names[i]) != 0) {
            PyErr_SetString(PyExc_ValueError, "bind_decoder: check fields out of order");
            return NULL;
        }
    if (!PyTuple_Check(enums) || PyTuple_GET_SIZE(enums) != NE) {
        PyErr_SetString(PyExc_ValueError, "bind_decoder: wrong number of enums");
        return NULL;
    }
    for (int e = 0; e < NE; e++) {
        PyObject *ms = PyTuple_GET_ITEM(enums, e);
        if (!PyTuple_Check(ms) || PyTuple_GET_SIZE(ms) > MAX_MEMBERS) {
            PyErr_SetString(PyExc_ValueError, "bind_decoder: an enum's members");
            return NULL;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(ms); i++) {
            PyObject *m = PyTuple_GET_ITEM(ms, i);
            /* a str enum member: its own str value is its JSON text (kept alive by the member) */
            if (!PyUnicode_Check(m) || (d_values[e][i] = PyUnicode_AsUTF8AndSize(m, &d_lens[e][i])) == NULL) {
                PyErr_SetString(PyExc_TypeError, "bind_decoder: members must be str enums");
                return NULL;
            }
            Py_XSETREF(d_members[e][i], Py_NewRef(m));
        }
        d_count[e] = PyTuple_GET_SIZE(ms);
    }
    for (int i = 0; i < ND; i++)
        d_nlen[i] = (Py_ssize_t)strlen(d_names[i]);
    for (int i = 0; i < NDC; i++)
        dc_nlen[i] = (Py_ssize_t)strlen(dc_names[i]);
    Py_XSETREF(d_unset, Py_NewRef(unset));
    Py_XSETREF(d_check, (PyTypeObject *)Py_NewRef(ct));
    Py_XSETREF(d_event, (PyTypeObject *)Py_NewRef(et));
    Py_RETURN_NONE;
}
