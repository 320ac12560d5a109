#include "realtime/schema_validator.h"
// Implementation in progress.
