// The CUDA prior-sampling kernel, compiled as C++ for the SIMT emulator (pyaae.emu).
#include "simt.h"  // first: the CUDA language the .cu source is written in
#include "../cuda/prior_sampling.cu"
