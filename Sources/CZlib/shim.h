#ifndef BACKSTREAM_CZLIB_SHIM_H
#define BACKSTREAM_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro Swift cannot call. windowBits 15+16: a 32 KiB window, gzip header
// and trailer only (a zlib or raw stream is refused, not guessed at).
static inline int backstream_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}
#endif
