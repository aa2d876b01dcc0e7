/* DuePlan: which knowledge rules are due for a message (rules_due.due_rules), in one C call,
included by _textnative.c after the CodeSet type (it reads CodeSet's tables).

Why C (sessions 23, 24, measured): on a ~1 KB COLD dev cut the first-stage scan finds ~7 key
literals, which leave ~6.6 rules pending (a clause's key occurs; its other factors must occur
near it). Session 23 moved the pending-rule test into C (due_pending) but kept its inputs as
Python objects: a cached entry per set of key literals (a frozenset key, tuples, frozensets of
key ids), the hits' PyLongs looked up in those sets per rule and per clause, the factor of
each literal occurrence read from a list. In the pipeline, where the other checks have just
evicted all of that, the stage still cost ~15-20 µs p50 against ~3 µs warm: cache misses on
the Python objects and on each rule's CodeSet slot table, one probe per character of the
rule's stretch (~470 probes a cut). Here the rules' clauses are flat C arrays built once, the
entry is worked out per message from them (no cache to miss or to grow), and the slot probes
are prefetched a few characters ahead, so their misses overlap.

DuePlan(keyed, kl, clauses, rule_sets, rule_facs, always):
  keyed      per first-stage literal id, the clause indices it keys (LiteralIndex.keyed);
  kl         per first-stage literal id, its length in codes (0 on the original side);
  clauses    per clause (rule, width or None, strict, has other factors, other factors'
             indices in the rule's factor list), clause indices ascending with the rule;
  rule_sets  per rule, the CodeSet of its other factors (its only confirmation database, on
             the normalised side) or None: the rule's pending clauses go back to Python;
  rule_facs  per rule, literal id of that CodeSet -> factor index (None with no CodeSet);
  always     rule indices due on every message.
due(hits, codes, near_ok) -> (due, rest):
  hits the first-stage hits (end << 20 | literal id); codes the message's normalised codes
  (uint32, not empty); near_ok: nothing expanded (n.shift is None). due: the rule indices
  found due, ascending; rest: None, or [(rule, (clause, ...)), ...] pending rules without a
  CodeSet, for the Python loop (rules_due.pending_loop). The answers are the Python loop's;
  tests/checks/test_rules_native.py holds the two equal. */

#define DUE_HIT_BITS 20
#define DUE_HIT_MASK ((1L << DUE_HIT_BITS) - 1)

typedef struct {
    Py_ssize_t s, e;
    int32_t f;
} DueOcc;

typedef struct {
    PyObject_HEAD
    int32_t nlits, nclauses, nrules, nalways;
    int32_t *keyed_at, *keyed, *kl;                    /* CSR: literal -> clauses; lengths */
    int32_t *cl_rule, *cl_width, *cl_idx_at, *cl_idx;  /* width -1: None */
    uint8_t *cl_strict, *cl_confirm;
    int32_t *fac_at, *fac;                             /* per rule: literal id -> factor */
    CodeSet **rule_set;                                /* per rule, borrowed from sets_ref */
    int32_t *always;
    PyObject *sets_ref;
} DuePlan;

static int
dueocc_cmp(const void *a, const void *b)
{
    const DueOcc *x = a, *y = b;
    if (x->f != y->f)
        return x->f < y->f ? -1 : 1;
    return x->s < y->s ? -1 : x->s > y->s;
}

static int
int32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether literal ``id`` keys a clause with other factors of rule ``r`` (``clause`` < 0), or
keys clause ``clause``: the hits a rule's stretch and a clause's distance test start from. */
static inline int
due_keys(const DuePlan *p, long id, int32_t r, int32_t clause)
{
    for (int32_t q = p->keyed_at[id]; q < p->keyed_at[id + 1]; q++) {
        int32_t k = p->keyed[q];
        if (clause >= 0 ? k == clause : (p->cl_rule[k] == r && p->cl_confirm[k]))
            return 1;
    }
    return 0;
}

/* Every occurrence of a literal of ``cs`` inside codes[lo:hi], as (start, end, factor): the
occurrences CodeSet.find reports. Returns the count, or -1 (memory). */
static Py_ssize_t
due_collect(const CodeSet *cs, const int32_t *fac, int32_t nfac, const uint32_t *codes, Py_ssize_t lo, Py_ssize_t hi,
            DueOcc **buf, Py_ssize_t *cap)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = lo; i < hi; i++) {
        if (i + CODESET_PREFETCH < hi)
            __builtin_prefetch(&cs->slots[codeset_hash(codes[i + CODESET_PREFETCH], cs->shift)]);
        const CodeSlot *sl = codeset_slot(cs, codes, i, hi);
        if (sl == NULL)
            continue;
        for (uint32_t k = sl->first; k < sl->first + sl->count; k++) {
            const CodeEntry *e = &cs->entries[k];
            if (i + (Py_ssize_t)e->len > hi)
                continue;
            uint32_t m = 1;
            while (m < e->len && codes[i + m] == cs->pool[e->off + m])
                m++;
            if (m < e->len || (int32_t)e->id >= nfac)
                continue; /* an id without a factor cannot happen: DuePlan_init checks it */
            if (n == *cap) {
                DueOcc *bigger = PyMem_Realloc(*buf, 2 * *cap * sizeof(DueOcc));
                if (bigger == NULL) {
                    PyErr_NoMemory();
                    return -1;
                }
                *buf = bigger;
                *cap *= 2;
            }
            (*buf)[n].s = i;
            (*buf)[n].e = i + e->len;
            (*buf)[n].f = fac[e->id];
            n++;
        }
    }
    return n;
}

/* Whether factor ``f``'s occurrences (sorted by start, ``occ[at[f]:at[f+1]]``) hold one
[s2, e2) with s2 >= lo2 and e2 <= hi2 (``rules_due.close`` for one key). */
static int
due_has(const DueOcc *occ, const Py_ssize_t *at, int32_t f, Py_ssize_t lo2, Py_ssize_t hi2)
{
    Py_ssize_t a = at[f], b = at[f + 1];
    while (a < b) { /* first start >= lo2 */
        Py_ssize_t m = (a + b) / 2;
        if (occ[m].s < lo2)
            a = m + 1;
        else
            b = m;
    }
    for (; a < at[f + 1] && occ[a].s < hi2; a++)
        if (occ[a].e <= hi2)
            return 1;
    return 0;
}

typedef struct { /* one message */
    const long *ids;
    const Py_ssize_t *ends;
    Py_ssize_t nhits, size;
    const uint32_t *codes;
    int near_ok;
    DueOcc *buf;
    Py_ssize_t cap, *at, atcap;
} DueMsg;

/* Pending rule ``r`` with its pending clauses ``act[0:na]``: 1 due, 0 not, -1 error. */
static int
due_rule(const DuePlan *p, int32_t r, const int32_t *act, Py_ssize_t na, DueMsg *m)
{
    int32_t width = 0;
    int strict = 1;
    for (Py_ssize_t q = 0; q < na; q++) {
        int32_t cw = p->cl_width[act[q]];
        width = (width < 0 || cw < 0) ? -1 : (cw > width ? cw : width);
        strict &= p->cl_strict[act[q]];
    }
    Py_ssize_t lo = 0, hi = m->size;
    if (width >= 0 && (strict || m->near_ok)) {
        /* Another factor of a match holding the key [s, e) lies in [e - w, s + w). */
        Py_ssize_t e0 = m->size, s1 = 0;
        for (Py_ssize_t j = 0; j < m->nhits; j++) {
            if (!due_keys(p, m->ids[j], r, -1))
                continue;
            if (m->ends[j] < e0)
                e0 = m->ends[j];
            if (m->ends[j] - p->kl[m->ids[j]] > s1)
                s1 = m->ends[j] - p->kl[m->ids[j]];
        }
        lo = e0 - width > 0 ? e0 - width : 0;
        hi = s1 + width < m->size ? s1 + width : m->size;
        if (lo >= hi)
            return 0;
    }
    int32_t nfac = p->fac_at[r + 1] - p->fac_at[r];
    Py_ssize_t nocc = due_collect(p->rule_set[r], p->fac + p->fac_at[r], nfac, m->codes, lo, hi, &m->buf, &m->cap);
    if (nocc <= 0)
        return (int)nocc; /* none of the rule's other factors occurs: the common answer */
    int32_t top = 0;      /* factors 0..top-1 occur */
    for (Py_ssize_t k = 0; k < nocc; k++)
        if (m->buf[k].f + 1 > top)
            top = m->buf[k].f + 1;
    if (top + 1 > m->atcap) {
        Py_ssize_t *bigger = PyMem_Realloc(m->at, (top + 1) * sizeof(Py_ssize_t));
        if (bigger == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        m->at = bigger;
        m->atcap = top + 1;
    }
    qsort(m->buf, nocc, sizeof(DueOcc), dueocc_cmp);
    Py_ssize_t *a = m->at;
    for (int32_t f = 0, k = 0; f <= top; f++) { /* a[f]: first occurrence of factor f */
        while (k < nocc && m->buf[k].f < f)
            k++;
        a[f] = k;
    }
    for (Py_ssize_t q = 0; q < na; q++) {
        int32_t k = act[q];
        const int32_t *idx = p->cl_idx + p->cl_idx_at[k];
        int32_t nidx = p->cl_idx_at[k + 1] - p->cl_idx_at[k];
        int all = 1;
        for (int32_t t = 0; t < nidx && all; t++)
            all = idx[t] < top && a[idx[t]] < a[idx[t] + 1];
        if (!all)
            continue;
        int32_t w = p->cl_width[k];
        if (w < 0 || !(p->cl_strict[k] || m->near_ok))
            return 1;
        for (Py_ssize_t j = 0; j < m->nhits; j++) {
            if (!due_keys(p, m->ids[j], r, k))
                continue;
            Py_ssize_t e = m->ends[j], s = e - p->kl[m->ids[j]];
            int ok = 1;
            for (int32_t t = 0; t < nidx && ok; t++)
                ok = due_has(m->buf, a, idx[t], e - w, s + w);
            if (ok)
                return 1;
        }
    }
    return 0;
}

static PyObject *
DuePlan_due(DuePlan *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "due(hits: list, codes, near_ok)");
        return NULL;
    }
    if (self->keyed_at == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DuePlan: not initialised");
        return NULL;
    }
    PyObject *hits = args[0];
    int near_ok = PyObject_IsTrue(args[2]);
    if (near_ok < 0)
        return NULL;
    Py_buffer v;
    if (PyObject_GetBuffer(args[1], &v, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    Py_ssize_t nhits = PyList_GET_SIZE(hits);
    DueMsg m = {NULL, NULL, nhits, v.len / 4, (const uint32_t *)v.buf, near_ok, NULL, 64, NULL, 0};
    long *ids = PyMem_Malloc((nhits ? nhits : 1) * sizeof(long));
    Py_ssize_t *ends = PyMem_Malloc((nhits ? nhits : 1) * sizeof(Py_ssize_t));
    uint8_t *due = PyMem_Calloc(self->nrules ? self->nrules : 1, 1);
    int32_t *act = NULL;
    PyObject *out = NULL, *got = NULL, *rest = NULL;
    m.buf = PyMem_Malloc(m.cap * sizeof(DueOcc));
    if (ids == NULL || ends == NULL || due == NULL || m.buf == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (v.len % 4 || !m.size) {
        PyErr_SetString(PyExc_ValueError, "due: expected uint32 codes, at least one");
        goto done;
    }
    m.ids = ids;
    m.ends = ends;
    Py_ssize_t nact = 0;
    for (Py_ssize_t j = 0; j < nhits; j++) {
        long h = PyLong_AsLong(PyList_GET_ITEM(hits, j));
        if (h == -1 && PyErr_Occurred())
            goto done;
        ids[j] = h & DUE_HIT_MASK;
        ends[j] = h >> DUE_HIT_BITS;
        if (h < 0 || ids[j] >= self->nlits) {
            PyErr_SetString(PyExc_ValueError, "due: a hit's literal id beyond the plan's");
            goto done;
        }
        nact += self->keyed_at[ids[j] + 1] - self->keyed_at[ids[j]];
    }
    /* As rules_due.due_entry: clauses without other factors make their rule due outright;
    the others are pending unless their rule is. */
    act = PyMem_Malloc((nact ? nact : 1) * sizeof(int32_t));
    if (act == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (int32_t q = 0; q < self->nalways; q++)
        due[self->always[q]] = 1;
    nact = 0;
    for (Py_ssize_t j = 0; j < nhits; j++)
        for (int32_t q = self->keyed_at[ids[j]]; q < self->keyed_at[ids[j] + 1]; q++) {
            int32_t k = self->keyed[q];
            if (self->cl_confirm[k])
                act[nact++] = k;
            else
                due[self->cl_rule[k]] = 1;
        }
    qsort(act, nact, sizeof(int32_t), int32_cmp); /* by clause, so by rule */
    for (Py_ssize_t a = 0, b; a < nact; a = b) {
        int32_t r = self->cl_rule[act[a]];
        Py_ssize_t u = 0; /* the rule's clauses, each once */
        for (b = a; b < nact && self->cl_rule[act[b]] == r; b++)
            if (!u || act[a + u - 1] != act[b])
                act[a + u++] = act[b];
        if (due[r])
            continue;
        if (self->rule_set[r] == NULL) { /* not ours: the Python loop takes it */
            PyObject *ks = PyTuple_New(u), *item = NULL;
            for (Py_ssize_t q = 0; ks != NULL && q < u; q++) {
                PyObject *x = PyLong_FromLong(act[a + q]);
                if (x == NULL)
                    Py_CLEAR(ks);
                else
                    PyTuple_SET_ITEM(ks, q, x);
            }
            if (ks != NULL)
                item = Py_BuildValue("(iN)", r, ks);
            if (item == NULL || (rest == NULL && (rest = PyList_New(0)) == NULL) || PyList_Append(rest, item) < 0) {
                Py_XDECREF(item);
                goto done;
            }
            Py_DECREF(item);
            continue;
        }
        int d = due_rule(self, r, act + a, u, &m);
        if (d < 0)
            goto done;
        due[r] = (uint8_t)d;
    }
    got = PyList_New(0);
    if (got == NULL)
        goto done;
    for (int32_t r = 0; r < self->nrules; r++) {
        if (!due[r])
            continue;
        PyObject *x = PyLong_FromLong(r);
        if (x == NULL || PyList_Append(got, x) < 0) {
            Py_XDECREF(x);
            goto done;
        }
        Py_DECREF(x);
    }
    out = PyTuple_Pack(2, got, rest != NULL ? rest : Py_None);
done:
    PyMem_Free(ids);
    PyMem_Free(ends);
    PyMem_Free(due);
    PyMem_Free(act);
    PyMem_Free(m.buf);
    PyMem_Free(m.at);
    Py_XDECREF(got);
    Py_XDECREF(rest);
    PyBuffer_Release(&v);
    return out;
}

#include "_rules_due_init.h" /* DuePlan's constructor, destructor and type */
