// The CUDA prior-sampling kernel, compiled as C++ for the SIMT emulator (pyaae.emu).
#include "../cuda/prior_sampling.cu"
