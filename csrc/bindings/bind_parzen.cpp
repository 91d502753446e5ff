// Binding of the Parzen log-likelihood: shapes, emptiness and aliasing are checked here, and on host
// arrays the bandwidths' values too (finite and > 0). Device bandwidths, and the data's finiteness,
// are checked by pyaae.ops.parzen_log_likelihood, which can read device memory.
#include "bind_parzen.h"

#include <cmath>

namespace pyaae::bindings {
namespace {

void parzen(ParzenRunner run, ArrayReader read, bool host_memory, py::handle x_obj, py::handle samples_obj,
            py::handle sigmas_obj, py::handle out_obj, int num_threads, uintptr_t stream) {
  ParzenArgs args;
  args.num_threads = checked_threads(num_threads);
  args.stream = reinterpret_cast<void*>(stream);
  const FloatArray x = read(x_obj, "x", 2, false);
  const FloatArray samples = read(samples_obj, "samples", 2, false);
  const FloatArray sigmas = read(sigmas_obj, "sigmas", 1, false);
  const FloatArray out = read(out_obj, "out", 2, true);
  args.n = x.dim(0);
  args.dim = x.dim(1);
  args.m = samples.dim(0);
  args.k = sigmas.dim(0);
  if (args.n == 0) throw py::value_error("x must hold at least one test point (it has 0 rows)");
  if (args.m == 0) throw py::value_error("samples must hold at least one sample (it has 0 rows)");
  if (args.k == 0) throw py::value_error("sigmas must hold at least one bandwidth (it is empty)");
  expect_dim(samples, 1, args.dim, "columns", " to match x");
  expect_dim(out, 0, args.n, "rows", " to match x");
  expect_dim(out, 1, args.k, "columns", " to match sigmas");
  if (host_memory) {
    for (int64_t i = 0; i < args.k; ++i) {
      const float s = sigmas.data()[i];
      if (!std::isfinite(s) || !(s > 0.0f)) {
        throw py::value_error("sigmas[" + std::to_string(i) + "] = " + std::to_string(s) +
                              ": every bandwidth must be finite and > 0");
      }
    }
  }
  expect_disjoint(out, std::vector<const FloatArray*>{&x, &samples, &sigmas});
  args.x = x.data();
  args.samples = samples.data();
  args.sigmas = sigmas.data();
  args.out = out.data();
  py::gil_scoped_release release;
  run(args);
}

}  // namespace

void bind_parzen(py::module_& m, ParzenRunner run, ArrayReader read, bool host_memory, const std::string& prefix) {
  m.def(
      (prefix + "parzen_log_likelihood").c_str(),
      [run, read, host_memory](py::handle x, py::handle samples, py::handle sigmas, py::handle out, int num_threads,
                               uintptr_t stream) {
        parzen(run, read, host_memory, x, samples, sigmas, out, num_threads, stream);
      },
      py::arg("x"), py::arg("samples"), py::arg("sigmas"), py::arg("out"), py::arg("num_threads"),
      py::arg("stream") = 0,
      "out[n, k] = logsumexp_m(-|x_n - s_m|^2 / (2 sigma_k^2)) - log M - (D/2) log(2 pi sigma_k^2) for "
      "C-contiguous float32 x [N, D], samples [M, D], sigmas [K], out [N, K].");
}

}  // namespace pyaae::bindings
