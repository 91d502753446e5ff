// Binds {prefix}sample_prior over one back end: the CPU kernels, the CUDA kernels (device arrays),
// or the CUDA kernels under emulation (host arrays).
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "pyaae/prior_sampling.h"

namespace pyaae::bindings {

using PriorRunner = void (*)(const PriorSampling& p, int num_threads, void* stream);

void bind_priors(pybind11::module_& m, PriorRunner run, bool device_arrays, const std::string& prefix = "");

}  // namespace pyaae::bindings
