/* The objects of a batch, read for the event decoder (_ingestdecode.h) and included by
   _ingestnative.c before it: the WireEvent and WireCheck field tables and the enums that
   bind_decoder() fills, an object's opening and its members, an enum member, a struct made
   from its values, and the check object. Out of _ingestdecode.h as their own idea: how an
   object and its fields are read, the same for a check and for an event. */

/* every WireEvent field, in the order bind_decoder() is given them */
enum { D_ID, D_TYPE, D_SERVICE, D_TIME, D_INSTANCE, D_STATE, D_VERSION, D_FAILSAFE, D_ROUTE, D_REFUSAL, D_STATUS,
       D_MODEL, D_LATENCY, D_TIN, D_TOUT, D_INPUT, D_OUTPUT, D_LABEL, D_STREAM, D_DETAIL, D_ATTRIBUTES, ND };
static const char *const d_names[ND] = {
    "id", "type", "service", "time", "instance", "state", "state_version", "failsafe", "route", "refusal", "status",
    "model", "latency_ms", "tokens_in", "tokens_out", "input", "output", "label", "stream", "detail", "attributes"};
/* every WireCheck field */
enum { DC_BLOCKED, DC_CATEGORIES, DC_RISKS, DC_MASKED, DC_REFUSED, DC_COMPLIANCE, NDC };
static const char *const dc_names[NDC] = {"blocked", "categories", "risks", "masked", "refused", "compliance_risk"};
/* the enums, in the order bind_decoder() is given their members */
enum { E_TYPE, E_ROUTE, E_REFUSAL, E_STATUS, NE };
#define MAX_MEMBERS 16

static Py_ssize_t d_off[ND], dc_off[NDC], d_nlen[ND], dc_nlen[NDC];
static PyTypeObject *d_event = NULL, *d_check = NULL;
static PyObject *d_unset = NULL;
static PyObject *d_members[NE][MAX_MEMBERS];
static const char *d_values[NE][MAX_MEMBERS];
static Py_ssize_t d_lens[NE][MAX_MEMBERS], d_count[NE];

/* one of an enum's values as its member (borrowed → new reference), or null when nullable */
static PyObject *
enum_value(Cur *c, int e, int nullable)
{
    static int last[NE];  /* the member matched last: a batch repeats its values (only a hint) */
    if (c->p < c->end && *c->p == 'n')
        return nullable && literal(c) == 0 ? Py_NewRef(Py_None) : NULL;
    const char *s;
    Py_ssize_t n;
    if (str_bytes(c, &s, &n) != 0)
        return NULL;
    int h = last[e];
    if (h < d_count[e] && d_lens[e][h] == n && same_bytes(d_values[e][h], s, n))
        return Py_NewRef(d_members[e][h]);
    for (Py_ssize_t i = 0; i < d_count[e]; i++)
        if (d_lens[e][i] == n && same_bytes(d_values[e][i], s, n)) {
            last[e] = (int)i;
            return Py_NewRef(d_members[e][i]);
        }
    return NULL;
}

static PyObject *
new_struct(PyTypeObject *type, PyObject **vals, const Py_ssize_t *offs, int count)
{
    PyObject *obj = PyType_GenericAlloc(type, 0);  /* as msgspec: untracked (gc=False), fields zeroed */
    if (obj == NULL) {
        PyErr_Clear();
        for (int i = 0; i < count; i++)
            Py_CLEAR(vals[i]);
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        SLOT(obj, offs[i]) = vals[i];  /* the reference moves into the struct */
        vals[i] = NULL;
    }
    return obj;
}

/* an object's opening brace and the whitespace after it: 1 when members follow, 0 when it is
   empty ('}' read too), -1 when the value is not an object */
static inline int
open_object(Cur *c)
{
    if (c->p >= c->end || *c->p != '{')
        return -1;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    return 1;
}

/* the body of an object, after its members: '}' closes it */
static inline int
next_member(Cur *c)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        skip_ws(c);
        return 1;
    }
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    return -1;
}

/* a check object, or null; a check that found nothing is the batch's one plain check */
static PyObject *
check_value(Cur *c, PyObject **plain)
{
    if (c->p < c->end && *c->p == 'n')
        return literal(c) == 0 ? Py_NewRef(Py_None) : NULL;
    int more = open_object(c);
    if (more < 0)
        return NULL;
    PyObject *vals[NDC] = {NULL};
    int k = -1;
    while (more == 1) {
        k = key_of(c, dc_names, dc_nlen, NDC, k + 1);
        if (k < 0 || vals[k] != NULL)
            goto fail;
        switch (k) {
        case DC_BLOCKED:
            vals[k] = bool_value(c, 0);
            break;
        case DC_CATEGORIES:
        case DC_RISKS:
        case DC_MASKED:
            vals[k] = str_tuple(c);
            break;
        default:
            vals[k] = bool_value(c, 1);
        }
        if (vals[k] == NULL || (more = next_member(c)) < 0)
            goto fail;
    }
    int found = (vals[DC_BLOCKED] == Py_True);
    for (int i = DC_CATEGORIES; i <= DC_MASKED; i++)
        found |= vals[i] != NULL && PyTuple_GET_SIZE(vals[i]) > 0;
    found |= (vals[DC_REFUSED] != NULL && vals[DC_REFUSED] != Py_None)
             || (vals[DC_COMPLIANCE] != NULL && vals[DC_COMPLIANCE] != Py_None);
    if (!found && *plain != NULL) {
        for (int i = 0; i < NDC; i++)
            Py_CLEAR(vals[i]);
        return Py_NewRef(*plain);
    }
    if (vals[DC_BLOCKED] == NULL)
        vals[DC_BLOCKED] = Py_NewRef(Py_False);
    for (int i = DC_CATEGORIES; i <= DC_MASKED; i++)
        if (vals[i] == NULL)
            vals[i] = PyTuple_New(0);
    for (int i = DC_REFUSED; i <= DC_COMPLIANCE; i++)
        if (vals[i] == NULL)
            vals[i] = Py_NewRef(Py_None);
    PyObject *obj = new_struct(d_check, vals, dc_off, NDC);
    if (obj != NULL && !found)
        *plain = obj;  /* borrowed: the events hold it */
    return obj;
fail:
    for (int i = 0; i < NDC; i++)
        Py_CLEAR(vals[i]);
    return NULL;
}
