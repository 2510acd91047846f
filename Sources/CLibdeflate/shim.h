#ifndef BACKSTREAM_CLIBDEFLATE_SHIM_H
#define BACKSTREAM_CLIBDEFLATE_SHIM_H
#include <libdeflate.h>
#endif
