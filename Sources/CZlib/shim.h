#ifndef BACKSTREAM_CZLIB_SHIM_H
#define BACKSTREAM_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro; windowBits 15+32 auto-detects gzip and zlib headers.
static inline int backstream_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}
#endif
