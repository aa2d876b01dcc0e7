/* The directory's id -> slot table (monitor/directory.py), included by _ingestnative.c.

Why not the dict: at 100,000 registered services a batch's 1,000 lookups in the id -> slot dict
cost ~0.35 ms against ~0.09 ms at 1,000 (measured in-process, issue 19): each lookup misses the
cache on the dict's index, its entry, the stored key's string object and the int it maps to,
all scattered over the heap. Here an entry holds the hash, the slot and the id's UTF-8 bytes
(up to KEY_INLINE of them) in one 64-byte line, open addressing with linear probing: one miss
per lookup in the usual case. An id longer than KEY_INLINE bytes is confirmed against the
directory's own string (``names[slot]``), so a match is always exact, never by hash alone.

The table is a bytes-like buffer built by ``slot_table_build`` and only read afterwards
(a new one is built when the directory changes), so lookups from several threads need no lock. */

#define KEY_INLINE 44
typedef struct {
    int64_t hash;
    int64_t slot; /* -1: empty */
    int32_t len;  /* bytes of the id's UTF-8 */
    char key[KEY_INLINE];
} slot_entry;

static int
slot_key(PyObject *s, Py_hash_t *h, const char **data, Py_ssize_t *len)
{
    if (!PyUnicode_CheckExact(s)) {
        PyErr_SetString(PyExc_TypeError, "slot table: an id that is not a str");
        return -1;
    }
    *h = PyObject_Hash(s);
    if (*h == -1)
        return -1;
    *data = PyUnicode_AsUTF8AndSize(s, len);
    return *data == NULL ? -1 : 0;
}

PyDoc_STRVAR(slot_table_build_doc,
"slot_table_build(ids, slots, table) -> None\n\n"
"Fill ``table`` (a writable buffer of 64-byte entries, a power of two of them, at least twice\n"
"as many as ids) with ids[i] -> slots[i] (int64). Every id is distinct.");

static PyObject *
slot_table_build(PyObject *self, PyObject *args)
{
    PyObject *ids, *slots_obj, *table_obj;
    if (!PyArg_ParseTuple(args, "O!OO", &PyList_Type, &ids, &slots_obj, &table_obj))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ids);
    Py_buffer sv, tv;
    if (get_buffer(slots_obj, &sv, n * (Py_ssize_t)sizeof(int64_t), 0, "slot_table_build: slots") < 0)
        return NULL;
    if (get_buffer(table_obj, &tv, 0, 1, "slot_table_build: table") < 0) {
        PyBuffer_Release(&sv);
        return NULL;
    }
    Py_ssize_t cap = tv.len / (Py_ssize_t)sizeof(slot_entry);
    if (cap < 2 * n || cap < 1 || (cap & (cap - 1)) != 0) {
        PyErr_SetString(PyExc_ValueError, "slot_table_build: the table needs a power of two of entries, >= 2 per id");
        goto fail;
    }
    slot_entry *tab = (slot_entry *)tv.buf;
    const int64_t *slots = (const int64_t *)sv.buf;
    for (Py_ssize_t i = 0; i < cap; i++)
        tab[i].slot = -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_hash_t h;
        const char *data;
        Py_ssize_t len;
        if (slot_key(PyList_GET_ITEM(ids, k), &h, &data, &len) < 0)
            goto fail;
        if (len > INT32_MAX || slots[k] < 0) {
            PyErr_SetString(PyExc_ValueError, "slot_table_build: an id too long or a negative slot");
            goto fail;
        }
        size_t i = (size_t)h & (size_t)(cap - 1);
        while (tab[i].slot >= 0)
            i = (i + 1) & (size_t)(cap - 1);
        tab[i].hash = h;
        tab[i].slot = slots[k];
        tab[i].len = (int32_t)len;
        memcpy(tab[i].key, data, len < KEY_INLINE ? (size_t)len : KEY_INLINE);
    }
    PyBuffer_Release(&sv);
    PyBuffer_Release(&tv);
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&sv);
    PyBuffer_Release(&tv);
    return NULL;
}

PyDoc_STRVAR(slot_lookup_doc,
"slot_lookup(table, names, items, out) -> (missing, distinct)\n\n"
"out[i] = the slot of items[i]'s id (an event struct's service, or a str), -1 if the table\n"
"has none; ``names[slot]`` is the directory's id of a slot (confirms ids longer than the\n"
"inline key). Answers how many items were not found and how many distinct slots were.");

/* add got (>= 0) to the open-addressing set seen[0..scap) (scap a power of two, empty slots
   -1): 1 when it was not there yet. The batch's distinct services are counted with it here and
   in the decoder. */
static inline int
seen_add(int64_t *seen, size_t scap, int64_t got)
{
    size_t j = ((size_t)got * 0x9E3779B97F4A7C15ull) >> 17 & (scap - 1);
    while (seen[j] >= 0 && seen[j] != got)
        j = (j + 1) & (scap - 1);
    if (seen[j] >= 0)
        return 0;
    seen[j] = got;
    return 1;
}

static PyObject *
slot_lookup(PyObject *self, PyObject *args)
{
    PyObject *table_obj, *names, *items, *out_obj;
    if (!PyArg_ParseTuple(args, "OO!O!O", &table_obj, &PyList_Type, &names, &PyList_Type, &items, &out_obj))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items), nn = PyList_GET_SIZE(names);
    Py_buffer tv, ov;
    if (get_buffer(table_obj, &tv, 0, 0, "slot_lookup: table") < 0)
        return NULL;
    if (get_buffer(out_obj, &ov, n * (Py_ssize_t)sizeof(int64_t), 1, "slot_lookup: out") < 0) {
        PyBuffer_Release(&tv);
        return NULL;
    }
    Py_ssize_t cap = tv.len / (Py_ssize_t)sizeof(slot_entry);
    const slot_entry *tab = (const slot_entry *)tv.buf;
    int64_t *out = (int64_t *)ov.buf;
    /* distinct slots of the batch: a small local set (2n, a power of two), not the table */
    size_t scap = 16;
    while (scap < 2 * (size_t)n)
        scap <<= 1;
    int64_t *seen = PyMem_Malloc(scap * sizeof(int64_t));
    if (seen == NULL || cap < 1 || (cap & (cap - 1)) != 0) {
        if (seen == NULL)
            PyErr_NoMemory();
        else
            PyErr_SetString(PyExc_ValueError, "slot_lookup: not a table");
        goto fail;
    }
    memset(seen, 0xff, scap * sizeof(int64_t));
    Py_ssize_t missing = 0, distinct = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *it = PyList_GET_ITEM(items, k);
        PyObject *s = it;
        if (event_type != NULL && Py_IS_TYPE(it, event_type)) {
            s = SLOT(it, ev_off[F_SERVICE]);
            if (s == NULL) {
                PyErr_SetString(PyExc_TypeError, "slot_lookup: an event without a service");
                goto fail;
            }
        }
        Py_hash_t h;
        const char *data;
        Py_ssize_t len;
        if (slot_key(s, &h, &data, &len) < 0)
            goto fail;
        int64_t got = -1;
        size_t i = (size_t)h & (size_t)(cap - 1);
        for (;;) {
            const slot_entry *e = &tab[i];
            if (e->slot < 0)
                break;
            if (e->hash == h && e->len == len &&
                memcmp(e->key, data, len < KEY_INLINE ? (size_t)len : KEY_INLINE) == 0) {
                if (len <= KEY_INLINE) {
                    got = e->slot;
                    break;
                }
                if (e->slot < nn) {  /* longer than the inline key: compare the whole id */
                    int eq = PyUnicode_Compare(PyList_GET_ITEM(names, e->slot), s);
                    if (eq == -1 && PyErr_Occurred())
                        goto fail;
                    if (eq == 0) {
                        got = e->slot;
                        break;
                    }
                }
            }
            i = (i + 1) & (size_t)(cap - 1);
        }
        out[k] = got;
        if (got < 0) {
            missing++;
            continue;
        }
        distinct += seen_add(seen, scap, got);
    }
    PyMem_Free(seen);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&ov);
    return Py_BuildValue("nn", missing, distinct);
fail:
    PyMem_Free(seen);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&ov);
    return NULL;
}
