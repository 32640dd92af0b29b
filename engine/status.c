/* The names of the engine's SL_E_* status codes (defined in
 * operators/operators.h, which the engine and the operators both return). */
#include "engine/engine.h"

const char *sl_engine_strerror(int code)
{
    switch (code) {
    case SL_E_OK: return "ok";
    case SL_E_INVAL: return "invalid argument";
    case SL_E_TOPOLOGY: return "invalid topology";
    case SL_E_NOMEM: return "out of memory";
    case SL_E_STORE: return "state store failure";
    case SL_E_RECORD: return "record failed (dead-lettered)";
    case SL_E_NOTFOUND: return "not found";
    case SL_E_IO: return "I/O error";
    default: return "unknown error";
    }
}
