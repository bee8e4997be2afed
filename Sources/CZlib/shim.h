#ifndef UVLOOP_CZLIB_SHIM_H
#define UVLOOP_CZLIB_SHIM_H
// Headers only: zlib, for WebSocket permessage-deflate (RFC 7692).
#include <zlib.h>

// deflateInit2/inflateInit2 are macros that Swift cannot import; these call them.
static inline int czlib_deflate_init(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int czlib_inflate_init(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
