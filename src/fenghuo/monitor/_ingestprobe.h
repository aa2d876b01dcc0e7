/* An event's service read with its directory slot, for the event decoder (_ingestdecode.h),
   included by _ingestnative.c before it: the probe of the directory's table (_ingestslots.h,
   directory.py's batch_slots) hashes the id's bytes as str hashes them, and the new str carries
   that hash; and the number of distinct slots in a batch. Out of _ingestdecode.h as its own
   idea: the directory's lookup, done as the id is read. Shared, the state a batch's events
   share (the decoder's too), opens this header because service_value is the first to use it. */

typedef struct {
    Last time, service, instance, state, model;
    PyObject *plain;
    int next[ND + 1];  /* next[k + 1]: the key that followed key k in the previous event (-1: the first) */
    /* the directory's id -> slot table (_ingestslots.h) and its ids, when the batch is decoded
       with them (tab NULL: not); slot: the slot of the event being read (-1: none known) */
    const slot_entry *tab;
    Py_ssize_t tcap;
    PyObject *names;
    int64_t slot, last_slot;
} Shared;

/* The slot of a service id given as its bytes (ASCII, no escape), or -1: the table's probe of
   slot_lookup, hashed as str hashes a compact ASCII string (its bytes, ``*hash``). An id of up
   to KEY_INLINE bytes is matched by the entry alone; a longer one is confirmed against the
   directory's own str. */
static int64_t
table_find(const Shared *sh, const char *s, Py_ssize_t n, Py_hash_t *hash)
{
    Py_hash_t h = *hash = _Py_HashBytes(s, n);
    size_t mask = (size_t)sh->tcap - 1, i = (size_t)h & mask;
    Py_ssize_t nn = PyList_GET_SIZE(sh->names);
    for (;;) {
        const slot_entry *e = &sh->tab[i];
        if (e->slot < 0)
            return -1;
        if (e->hash == h && e->len == n && memcmp(e->key, s, n < KEY_INLINE ? (size_t)n : KEY_INLINE) == 0 && e->slot < nn) {
            if (n <= KEY_INLINE)
                return e->slot;
            PyObject *name = PyList_GET_ITEM(sh->names, e->slot);
            if (PyUnicode_CheckExact(name) && PyUnicode_IS_COMPACT_ASCII(name) && PyUnicode_GET_LENGTH(name) == n &&
                memcmp(PyUnicode_DATA(name), s, n) == 0)
                return e->slot;
        }
        i = (i + 1) & mask;
    }
}

/* An event's service when the batch is decoded with the directory's table: its slot is noted
   as the id is read, so ingest looks nothing up again (-1: not known, or not plain ASCII;
   ingest then looks the batch up by name as before), and the new str carries the hash the
   probe computed (what str's own hash gives), so the instance keys do not hash it again. The
   directory's own str is not taken: at 100,000 services it and the list holding it are out of
   the cache, two misses an event where a new str is made in memory just used. The previous
   event's str when its bytes are the same. */
static PyObject *
service_value(Cur *c, Shared *sh)
{
    Last *last = &sh->service;
    if (last->obj != NULL && c->p + last->n + 2 <= c->end && *c->p == '"' && c->p[last->n + 1] == '"'
        && same_bytes(c->p + 1, last->s, last->n)) {
        c->p += last->n + 2;
        sh->slot = sh->last_slot;
        return Py_NewRef(last->obj);
    }
    Cur at = *c;
    const char *s;
    Py_ssize_t n;
    int high = str_bytes(c, &s, &n);
    if (high < 0)
        return NULL;
    PyObject *u = NULL;
    int64_t slot = -1;
    Py_hash_t h;
    if (!high && n >= 1 && n <= 64 && (slot = table_find(sh, s, n, &h)) >= 0) {
        u = PyUnicode_New(n, 127);
        if (u == NULL) {
            PyErr_Clear();
            return NULL;
        }
        memcpy(PyUnicode_DATA(u), s, n);
        ((PyASCIIObject *)u)->hash = h;  /* as str's hash of these bytes: a compact ASCII str hashes its bytes */
    } else {
        *c = at;
        u = str_value(c, 1, 64);
        if (u == NULL)
            return NULL;
        slot = -1;
    }
    last->s = at.p + 1;
    last->n = c->p - at.p - 2;
    last->obj = u;
    sh->slot = sh->last_slot = slot;
    return u;
}

/* the number of distinct values of slots[0..n) (all >= 0), with a small local set */
static Py_ssize_t
distinct_slots(const int64_t *slots, Py_ssize_t n)
{
    size_t scap = 16;
    while (scap < 2 * (size_t)n)
        scap <<= 1;
    int64_t *seen = PyMem_Malloc(scap * sizeof(int64_t));
    if (seen == NULL)
        return -1;
    memset(seen, 0xff, scap * sizeof(int64_t));
    Py_ssize_t distinct = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        int64_t got = slots[k];
        distinct += seen_add(seen, scap, got);
    }
    PyMem_Free(seen);
    return distinct;
}
