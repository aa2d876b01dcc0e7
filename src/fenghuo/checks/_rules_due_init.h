/* DuePlan's constructor (its arguments checked once, so DuePlan_due trusts them), destructor
and type; included by _rules_due.h. Split out to keep each file short. */

/* ``seq`` (ints, or sequences of ints with ``at`` given: CSR) into a new int32 array. */
static int32_t *
due_ints(PyObject *seq, Py_ssize_t *n, int32_t **at, const char *what)
{
    PyObject *f = PySequence_Fast(seq, what);
    if (f == NULL)
        return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(f), total = len;
    int32_t *out = NULL;
    if (at != NULL) {
        total = 0;
        *at = PyMem_Malloc((len + 1) * sizeof(int32_t));
        if (*at == NULL)
            goto fail;
        for (Py_ssize_t i = 0; i < len; i++) {
            PyObject *x = PySequence_Fast_GET_ITEM(f, i);
            Py_ssize_t k = x == Py_None ? 0 : PySequence_Size(x);
            if (k < 0)
                goto fail;
            (*at)[i] = (int32_t)total;
            total += k;
        }
        (*at)[len] = (int32_t)total;
    }
    out = PyMem_Malloc((total ? total : 1) * sizeof(int32_t));
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0, o = 0; i < len; i++) {
        PyObject *x = PySequence_Fast_GET_ITEM(f, i);
        if (at == NULL) {
            long val = PyLong_AsLong(x);
            if (val == -1 && PyErr_Occurred())
                goto fail;
            out[o++] = (int32_t)val;
            continue;
        }
        for (Py_ssize_t k = 0; x != Py_None && k < PySequence_Size(x); k++) {
            PyObject *y = PySequence_GetItem(x, k);
            long val = y == NULL ? -1 : PyLong_AsLong(y);
            Py_XDECREF(y);
            if (val == -1 && PyErr_Occurred())
                goto fail;
            out[o++] = (int32_t)val;
        }
    }
    *n = len;
    Py_DECREF(f);
    return out;
fail:
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    PyMem_Free(out);
    if (at != NULL) {
        PyMem_Free(*at);
        *at = NULL;
    }
    Py_DECREF(f);
    return NULL;
}

static int
DuePlan_init(DuePlan *self, PyObject *args, PyObject *kwds)
{
    PyObject *keyed, *kl, *clauses, *sets, *facs, *always;
    static char *kwlist[] = {"keyed", "kl", "clauses", "rule_sets", "rule_facs", "always", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO!OO", kwlist, &keyed, &kl, &clauses, &PyList_Type, &sets, &facs, &always))
        return -1;
    if (self->keyed_at != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DuePlan: already initialised");
        return -1;
    }
    Py_ssize_t nlits, nkl, ncl, nrules, nfacs, nalways;
    if ((self->keyed = due_ints(keyed, &nlits, &self->keyed_at, "keyed: a list of lists")) == NULL ||
        (self->kl = due_ints(kl, &nkl, NULL, "kl: a list")) == NULL ||
        (self->fac = due_ints(facs, &nfacs, &self->fac_at, "rule_facs: a list")) == NULL ||
        (self->always = due_ints(always, &nalways, NULL, "always: a list")) == NULL)
        return -1;
    nrules = PyList_GET_SIZE(sets);
    PyObject *cf = PySequence_Fast(clauses, "clauses: a list");
    if (cf == NULL)
        return -1;
    ncl = PySequence_Fast_GET_SIZE(cf);
    PyObject *idxs = PyList_New(ncl);
    int ok = idxs != NULL && nkl == nlits && nfacs == nrules;
    if (idxs != NULL && !ok)
        PyErr_SetString(PyExc_ValueError, "DuePlan: kl one per literal, rule_facs one per rule");
    self->cl_rule = PyMem_Malloc((ncl ? ncl : 1) * sizeof(int32_t));
    self->cl_width = PyMem_Malloc((ncl ? ncl : 1) * sizeof(int32_t));
    self->cl_strict = PyMem_Malloc(ncl ? ncl : 1);
    self->cl_confirm = PyMem_Malloc(ncl ? ncl : 1);
    self->rule_set = PyMem_Calloc(nrules ? nrules : 1, sizeof(CodeSet *));
    if (ok && (!self->cl_rule || !self->cl_width || !self->cl_strict || !self->cl_confirm || !self->rule_set)) {
        PyErr_NoMemory();
        ok = 0;
    }
    for (Py_ssize_t k = 0; ok && k < ncl; k++) {
        PyObject *c = PySequence_Fast_GET_ITEM(cf, k), *w;
        int strict, conf;
        long r;
        PyObject *ix;
        if (!PyArg_ParseTuple(c, "lOppO", &r, &w, &strict, &conf, &ix)) {
            ok = 0;
            break;
        }
        long wv = w == Py_None ? -1 : PyLong_AsLong(w);
        if ((wv == -1 && PyErr_Occurred()) || r < 0 || r >= nrules || (w != Py_None && wv < 0) || (k && r < self->cl_rule[k - 1])) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "DuePlan: a clause's rule out of range or out of order, or a negative width");
            ok = 0;
            break;
        }
        self->cl_rule[k] = (int32_t)r;
        self->cl_width[k] = (int32_t)wv;
        self->cl_strict[k] = (uint8_t)strict;
        self->cl_confirm[k] = (uint8_t)conf;
        PyList_SET_ITEM(idxs, k, Py_NewRef(ix));
    }
    Py_ssize_t nix;
    if (ok && (self->cl_idx = due_ints(idxs, &nix, &self->cl_idx_at, "clauses: factor indices")) == NULL)
        ok = 0;
    for (Py_ssize_t i = 0; ok && i < self->keyed_at[nlits]; i++)
        if (self->keyed[i] < 0 || self->keyed[i] >= ncl) {
            PyErr_SetString(PyExc_ValueError, "DuePlan: keyed names a clause beyond the clauses");
            ok = 0;
        }
    for (Py_ssize_t i = 0; ok && i < nalways; i++)
        if (self->always[i] < 0 || self->always[i] >= nrules) {
            PyErr_SetString(PyExc_ValueError, "DuePlan: an always rule beyond the rules");
            ok = 0;
        }
    for (Py_ssize_t r = 0; ok && r < nrules; r++) {
        PyObject *s = PyList_GET_ITEM(sets, r);
        if (Py_TYPE(s) != &CodeSetType || ((CodeSet *)s)->slots == NULL)
            continue; /* the Python loop */
        const CodeSet *cs = (CodeSet *)s;
        for (uint32_t e = 0; ok && e < cs->nentries; e++)
            if ((int32_t)cs->entries[e].id >= self->fac_at[r + 1] - self->fac_at[r]) {
                PyErr_SetString(PyExc_ValueError, "DuePlan: a literal of a rule's set without a factor");
                ok = 0;
            }
        self->rule_set[r] = (CodeSet *)s;
    }
    for (Py_ssize_t k = 0; ok && k < ncl; k++)
        for (int32_t q = self->cl_idx_at[k]; ok && q < self->cl_idx_at[k + 1]; q++)
            if (self->cl_idx[q] < 0) {
                PyErr_SetString(PyExc_ValueError, "DuePlan: a negative factor index");
                ok = 0;
            }
    Py_DECREF(cf);
    Py_XDECREF(idxs);
    if (!ok)
        return -1;
    self->sets_ref = Py_NewRef(sets);
    self->nlits = (int32_t)nlits;
    self->nclauses = (int32_t)ncl;
    self->nrules = (int32_t)nrules;
    self->nalways = (int32_t)nalways;
    return 0;
}

static void
DuePlan_dealloc(DuePlan *self)
{
    PyMem_Free(self->keyed_at);
    PyMem_Free(self->keyed);
    PyMem_Free(self->kl);
    PyMem_Free(self->cl_rule);
    PyMem_Free(self->cl_width);
    PyMem_Free(self->cl_idx_at);
    PyMem_Free(self->cl_idx);
    PyMem_Free(self->cl_strict);
    PyMem_Free(self->cl_confirm);
    PyMem_Free(self->fac_at);
    PyMem_Free(self->fac);
    PyMem_Free(self->rule_set);
    PyMem_Free(self->always);
    Py_XDECREF(self->sets_ref);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef DuePlan_methods[] = {
    {"due", (PyCFunction)(void (*)(void))DuePlan_due, METH_FASTCALL,
     "due(hits, codes, near_ok) -> (due, rest): see _rules_due.h."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DuePlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fenghuo.checks._textnative.DuePlan",
    .tp_basicsize = sizeof(DuePlan),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "DuePlan(keyed, kl, clauses, rule_sets, rule_facs, always): the rules due per message (see _rules_due.h).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)DuePlan_init,
    .tp_dealloc = (destructor)DuePlan_dealloc,
    .tp_methods = DuePlan_methods,
};
