/* The directory's id -> slot table (monitor/directory.py), included by _ingestnative.c.

Why not the dict: at 100,000 registered services a batch's 1,000 lookups in the id -> slot dict
cost ~0.35 ms against ~0.09 ms at 1,000 (measured in-process, issue 19): each lookup misses the
cache on the dict's index, its entry, the stored key's string object and the int it maps to,
all scattered over the heap. Here an entry holds the hash, the slot and the id's UTF-8 bytes
(up to KEY_INLINE of them) in one 64-byte line, open addressing with linear probing: one miss
per lookup in the usual case, and a batch's lookups prefetch their lines ahead (slots_find). An id longer than KEY_INLINE bytes is confirmed against the
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

/* ids between an entry's prefetch and its probe: 4 to 16 measured alike at 100,000 services,
   24 slower (the prefetched lines start to leave L1 before their probe) */
#define SLOT_AHEAD 12

/* The slot of the id ``s`` (hash ``h``, UTF-8 ``data[0..len)``), -1 if the table has none.
   An id of up to KEY_INLINE bytes is matched by the entry alone; a longer one is confirmed
   against the directory's own str (``names[slot]``), so a match is never by hash alone. */
static inline int64_t
slot_probe(const slot_entry *tab, size_t mask, PyObject *names, PyObject *s, Py_hash_t h, const char *data,
           Py_ssize_t len)
{
    Py_ssize_t nn = PyList_GET_SIZE(names);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const slot_entry *e = &tab[i];
        if (e->slot < 0)
            return -1;
        if (e->hash != h || e->len != len || e->slot >= nn ||
            memcmp(e->key, data, len < KEY_INLINE ? (size_t)len : KEY_INLINE) != 0)
            continue;
        if (len <= KEY_INLINE)
            return e->slot;
        PyObject *name = PyList_GET_ITEM(names, e->slot);  /* two exact str: the compare cannot fail */
        if (PyUnicode_CheckExact(name) && PyUnicode_Compare(name, s) == 0)
            return e->slot;
    }
}

/* out[k] = the slot of ids[k] (each a str), -1 if the table (cap entries, a power of two) has
   none, or with ``ascii_only`` if the id is not plain ASCII (the decoder's answer: ingest then
   looks those up by name). Answers how many are -1, or -1 with an error set.

   Why two passes: at 100,000 services the table is 16 MB, and each probe waited for its entry's
   line from memory (a 1,000-event batch read ~0.25 ms slower than at 1,000 services). Every
   id's hash first (str caches it; kept in out[] until its slot replaces it), then each probe
   prefetches the entry of the id SLOT_AHEAD places on, so the misses overlap. A run of one id
   (a guard's batch) is probed once. */
static Py_ssize_t
slots_find(const slot_entry *tab, Py_ssize_t cap, PyObject *names, PyObject *const *ids, Py_ssize_t n, int64_t *out,
           int ascii_only)
{
    size_t mask = (size_t)cap - 1;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!PyUnicode_CheckExact(ids[k])) {
            PyErr_SetString(PyExc_TypeError, "slot table: an id that is not a str");
            return -1;
        }
        if ((out[k] = PyObject_Hash(ids[k])) == -1)
            return -1;
    }
    for (Py_ssize_t k = 0; k < n && k < SLOT_AHEAD; k++)
        __builtin_prefetch(&tab[(size_t)out[k] & mask]);
    Py_ssize_t missing = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (k + SLOT_AHEAD < n)
            __builtin_prefetch(&tab[(size_t)out[k + SLOT_AHEAD] & mask]);
        PyObject *s = ids[k];
        int64_t got;
        if (k > 0 && s == ids[k - 1]) {
            got = out[k - 1];
        } else if (ascii_only && !PyUnicode_IS_ASCII(s)) {
            got = -1;
        } else {
            Py_ssize_t len;
            const char *data = PyUnicode_AsUTF8AndSize(s, &len);
            if (data == NULL)
                return -1;
            got = slot_probe(tab, mask, names, s, (Py_hash_t)out[k], data, len);
        }
        out[k] = got;
        missing += got < 0;
    }
    return missing;
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
    Py_ssize_t n = PyList_GET_SIZE(items);
    Py_buffer tv, ov;
    if (get_buffer(table_obj, &tv, 0, 0, "slot_lookup: table") < 0)
        return NULL;
    if (get_buffer(out_obj, &ov, n * (Py_ssize_t)sizeof(int64_t), 1, "slot_lookup: out") < 0) {
        PyBuffer_Release(&tv);
        return NULL;
    }
    Py_ssize_t cap = tv.len / (Py_ssize_t)sizeof(slot_entry), missing = -1, distinct = 0;
    int64_t *out = (int64_t *)ov.buf;
    /* the items' ids (borrowed), then the distinct slots of the batch in a small local set (2n,
       a power of two), not the table */
    size_t scap = 16;
    while (scap < 2 * (size_t)n)
        scap <<= 1;
    PyObject **strs = PyMem_Malloc((n ? (size_t)n : 1) * sizeof(PyObject *));
    int64_t *seen = PyMem_Malloc(scap * sizeof(int64_t));
    if (strs == NULL || seen == NULL || cap < 1 || (cap & (cap - 1)) != 0) {
        if (strs == NULL || seen == NULL)
            PyErr_NoMemory();
        else
            PyErr_SetString(PyExc_ValueError, "slot_lookup: not a table");
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *it = PyList_GET_ITEM(items, k);
        strs[k] = event_type != NULL && Py_IS_TYPE(it, event_type) ? SLOT(it, ev_off[F_SERVICE]) : it;
        if (strs[k] == NULL) {
            PyErr_SetString(PyExc_TypeError, "slot_lookup: an event without a service");
            goto done;
        }
    }
    missing = slots_find((const slot_entry *)tv.buf, cap, names, strs, n, out, 0);
    memset(seen, 0xff, scap * sizeof(int64_t));
    for (Py_ssize_t k = 0; missing >= 0 && k < n; k++)
        if (out[k] >= 0)
            distinct += seen_add(seen, scap, out[k]);
done:
    PyMem_Free(strs);
    PyMem_Free(seen);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&ov);
    return missing < 0 ? NULL : Py_BuildValue("nn", missing, distinct);
}
