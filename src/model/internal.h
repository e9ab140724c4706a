/* internal.h — what the model layer's files share and nothing above them may use.
 * Layer: model (private). */
#ifndef SIFA_MODEL_INTERNAL_H
#define SIFA_MODEL_INTERNAL_H

#include "model/model.h"

/* Frees every indicator of model (indicators.c) and leaves it with none. model must not be NULL.
 * Pointers into the old indicators become invalid. */
void sifa_model_indicators_free(struct sifa_model *model);

#endif
