// Activations of the fused layers and their gradients, one definition for CPU and CUDA.
// Gradients are written in terms of the layer's output y = act(x), so the backward pass needs only
// the saved output, never the pre-activation.
#pragma once

#include <cmath>
#include <type_traits>

#include "pyaae/host_device.h"

namespace pyaae {

enum class Activation : int { Identity = 0, ReLU = 1, LeakyReLU = 2, Sigmoid = 3, Tanh = 4 };

template <Activation A>
PYAAE_HOST_DEVICE float activate(float x, float negative_slope) {
  if constexpr (A == Activation::Identity) {
    return x;
  } else if constexpr (A == Activation::ReLU) {
    return x > 0.0f ? x : (x <= 0.0f ? 0.0f : x);  // NaN passes through, as in PyTorch
  } else if constexpr (A == Activation::LeakyReLU) {
    return x > 0.0f ? x : x * negative_slope;
  } else if constexpr (A == Activation::Sigmoid) {
#ifdef __CUDA_ARCH__
    return 1.0f / (1.0f + expf(-x));
#else
    // Sigmoid and tanh on the host: in double, rounded once (0.50 ulp measured). glibc's tanhf is off
    // by up to 2 ulp, and through the gradient 1 - y^2 that put a 512-row bias gradient at 5x PyTorch's
    // error (its tanh: 0.51 ulp). Only the scalar paths (narrow layers, the portable GEMM) come here.
    return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
#endif
  } else {
#ifdef __CUDA_ARCH__
    return tanhf(x);
#else
    return static_cast<float>(std::tanh(static_cast<double>(x)));
#endif
  }
}

// d act / d x expressed through y = act(x). LeakyReLU needs negative_slope >= 0 so that the sign
// of y is the sign of x; a zero pre-activation takes the negative-side slope, as in PyTorch.
template <Activation A>
PYAAE_HOST_DEVICE float activation_grad_from_output(float y, float negative_slope) {
  if constexpr (A == Activation::Identity) {
    return 1.0f;
  } else if constexpr (A == Activation::ReLU) {
    return y <= 0.0f ? 0.0f : 1.0f;  // a NaN output passes the gradient on, as PyTorch does
  } else if constexpr (A == Activation::LeakyReLU) {
    return y > 0.0f ? 1.0f : negative_slope;
  } else if constexpr (A == Activation::Sigmoid) {
    return y * (1.0f - y);
  } else {
    return 1.0f - y * y;
  }
}

// Calls f(std::integral_constant<Activation, A>{}) with the run-time activation as a compile-time one,
// so one kernel source serves every activation without branches in its inner loops.
template <class F>
decltype(auto) dispatch_activation(Activation act, F&& f) {
  switch (act) {
    case Activation::ReLU: return f(std::integral_constant<Activation, Activation::ReLU>{});
    case Activation::LeakyReLU: return f(std::integral_constant<Activation, Activation::LeakyReLU>{});
    case Activation::Sigmoid: return f(std::integral_constant<Activation, Activation::Sigmoid>{});
    case Activation::Tanh: return f(std::integral_constant<Activation, Activation::Tanh>{});
    case Activation::Identity:
    default: return f(std::integral_constant<Activation, Activation::Identity>{});
  }
}

}  // namespace pyaae
