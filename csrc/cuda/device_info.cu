// Device discovery for build_info(): a device counts only once a kernel of this build has run on
// it, which catches a driver that is too old or an architecture the build did not target.
#include <cuda_runtime.h>

#include "pyaae/cuda_info.h"

namespace pyaae {
namespace {

__global__ void write_marker(int* out) { *out = 0x5eed; }

bool kernel_runs(int device, std::string* why) {
  cudaSetDevice(device);
  int* marker = nullptr;
  int host = 0;
  cudaError_t err = cudaMalloc(&marker, sizeof(int));
  if (err == cudaSuccess) {
    write_marker<<<1, 1>>>(marker);
    err = cudaGetLastError();
    if (err == cudaSuccess) err = cudaMemcpy(&host, marker, sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(marker);
  }
  if (err != cudaSuccess) {
    *why = std::string("device ") + std::to_string(device) + ": " + cudaGetErrorString(err);
    cudaGetLastError();
    return false;
  }
  return host == 0x5eed;
}

}  // namespace

int cuda_usable_device_count(std::string* why_none) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    *why_none = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    cudaGetLastError();
    return 0;
  }
  if (count == 0) {
    *why_none = "no CUDA device found";
    return 0;
  }
  int usable = 0;
  for (int d = 0; d < count; ++d) usable += kernel_runs(d, why_none) ? 1 : 0;
  return usable;
}

}  // namespace pyaae
