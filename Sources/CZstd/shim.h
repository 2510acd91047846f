#ifndef BACKSTREAM_CZSTD_SHIM_H
#define BACKSTREAM_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
