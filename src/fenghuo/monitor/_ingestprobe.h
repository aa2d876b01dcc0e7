/* For the event decoder (_ingestdecode.h), included by _ingestnative.c before it: Shared, the
   state a batch's events share while they are decoded, and the number of distinct directory
   slots in a batch. The slots themselves are looked up after the parse, all at once with
   prefetching (_ingestslots.h, slots_find), since session 20; before, each service was probed
   as it was read, one cache miss at a time. */

typedef struct {
    Last time, service, instance, state, model;
    PyObject *plain;
    int next[ND + 1];  /* next[k + 1]: the key that followed key k in the previous event (-1: the first) */
} Shared;

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
