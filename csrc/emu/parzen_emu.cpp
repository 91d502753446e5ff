// The CUDA Parzen kernel, compiled as C++ for the SIMT emulator (pyaae.emu).
#include "simt.h"  // first: the CUDA language the .cu source is written in
#include "../cuda/parzen.cu"
