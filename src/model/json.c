/* json.c — a module definition as JSON, for GET /api/v1/modules: what the front end needs to
 * build forms (fields with types, labels, limits, code tables), lists and workflow buttons.
 * Layer: model. */
#include "base/common.h"
#include "model/model.h"

static json_t *field_json(const struct sifa_field *f)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b}", "code", f->code, "name", f->name, "type",
                          sifa_field_type_name(f->type), "required", f->required, "personal", f->personal,
                          "searchable", f->searchable);
    if (f->has_min)
        json_object_set_new(j, "min", json_integer(f->min));
    if (f->has_max)
        json_object_set_new(j, "max", json_integer(f->max));
    if (f->max_length)
        json_object_set_new(j, "max_length", json_integer(f->max_length));
    if (f->pattern)
        json_object_set_new(j, "pattern", json_string(f->pattern));
    if (f->default_value)
        json_object_set_new(j, "default", json_string(f->default_value));
    if (f->ntypes) {
        json_t *types = json_array();
        for (size_t i = 0; i < f->ntypes; i++)
            json_array_append_new(types, json_string(f->types[i]));
        json_object_set_new(j, "types", types);
    }
    if (f->ref_module)
        json_object_set_new(j, "module", json_string(f->ref_module));
    if (f->codes) {
        json_t *items = json_array();
        for (size_t i = 0; i < f->codes->nitems; i++)
            json_array_append_new(items, json_pack("{s:s,s:s}", "code", f->codes->items[i].code, "label",
                                                   f->codes->items[i].label));
        json_object_set_new(j, "codes", json_pack("{s:s,s:s,s:o}", "code", f->codes->code, "name", f->codes->name,
                                                  "items", items));
    }
    if (f->type == SIFA_FIELD_GROUP) {
        json_t *sub = json_array();
        for (size_t i = 0; i < f->nsub; i++)
            json_array_append_new(sub, field_json(&f->sub[i]));
        json_object_set_new(j, "fields", sub);
        json_object_set_new(j, "max_items", json_integer(f->max_items));
    }
    return j;
}

static const char *unit_name(enum sifa_deadline_unit u)
{
    return u == SIFA_DEADLINE_WORKING_DAYS ? "working_days" : u == SIFA_DEADLINE_HOURS ? "hours" : "natural_days";
}

json_t *sifa_module_to_json(const struct sifa_module *m)
{
    json_t *fields = json_array(), *states = json_array(), *transitions = json_array(), *deadlines = json_array();
    for (size_t i = 0; i < m->nfields; i++)
        json_array_append_new(fields, field_json(&m->fields[i]));
    for (size_t i = 0; i < m->nstates; i++)
        json_array_append_new(states, json_pack("{s:s,s:s,s:b,s:b}", "code", m->states[i].code, "name",
                                                m->states[i].name, "initial", m->states[i].initial, "final",
                                                m->states[i].final));
    for (size_t i = 0; i < m->ntransitions; i++) {
        const struct sifa_transition *t = &m->transitions[i];
        json_t *from = json_array(), *req = json_array(), *sets = json_array();
        for (size_t k = 0; k < t->nfrom; k++)
            json_array_append_new(from, json_string(t->from[k]->code));
        for (size_t k = 0; k < t->nrequires; k++)
            json_array_append_new(req, json_string(t->requires[k]->code));
        for (size_t k = 0; k < t->nsets; k++)
            json_array_append_new(sets, json_string(t->sets[k]->code));
        json_array_append_new(transitions, json_pack("{s:s,s:s,s:o,s:s,s:o,s:o}", "code", t->code, "name", t->name,
                                                     "from", from, "to", t->to->code, "requires", req, "sets", sets));
    }
    for (size_t i = 0; i < m->ndeadlines; i++) {
        const struct sifa_deadline *d = &m->deadlines[i];
        json_t *until = json_array();
        for (size_t k = 0; k < d->nstop_states; k++)
            json_array_append_new(until, json_string(d->stop_states[k]->code));
        json_array_append_new(deadlines, json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "code", d->code, "name", d->name,
                                                   "from", d->start_field->code, "unit", unit_name(d->unit), "amount",
                                                   (json_int_t)d->amount, "until", until));
    }
    json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "code", m->code, "name", m->name, "fields", fields, "states",
                          states, "transitions", transitions, "deadlines", deadlines);
    json_object_set_new(j, "group", m->group ? json_string(m->group) : json_null());
    json_object_set_new(j, "org_field", m->org_field ? json_string(m->org_field->code) : json_null());
    json_object_set_new(j, "initial_state", json_string(m->initial->code));
    if (m->numbering)
        json_object_set_new(j, "numbering", json_pack("{s:s,s:s}", "field", m->numbering->field->code, "pattern",
                                                      m->numbering->pattern));
    return j;
}
