// Binds {prefix}parzen_log_likelihood over one back end: the CPU kernels, the CUDA kernels (device
// arrays), or the CUDA kernels under emulation (host arrays).
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "arrays.h"
#include "pyaae/parzen.h"

namespace pyaae::bindings {

using ParzenRunner = void (*)(const ParzenArgs& args);

void bind_parzen(pybind11::module_& m, ParzenRunner run, ArrayReader read, bool host_memory,
                 const std::string& prefix = "");

}  // namespace pyaae::bindings
