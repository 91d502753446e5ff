// The CUDA Parzen kernel, compiled as C++ for the SIMT emulator (pyaae.emu).
#include "../cuda/parzen.cu"
