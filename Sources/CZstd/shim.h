#ifndef BACKSTREAM_CZSTD_SHIM_H
#define BACKSTREAM_CZSTD_SHIM_H
// ZSTD_getCParams (the level's parameters for a given input size) is in the part of the API
// zstd marks experimental; Debian's libzstd.so exports it.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#endif
