// The CUDA fused linear kernels, compiled as C++ for the SIMT emulator (pyaae.emu).
#include "../cuda/fused_linear.cu"
