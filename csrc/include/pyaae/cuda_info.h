// What the CUDA part of the build can do on this machine. Only defined when PYAAE_WITH_CUDA.
#pragma once

#include <string>

namespace pyaae {

// Number of CUDA devices on which a kernel of this build ran, 0 with the reason in *why_none
// (no driver, no device, no kernel image for the device's architecture, ...).
int cuda_usable_device_count(std::string* why_none);

}  // namespace pyaae
