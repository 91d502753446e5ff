// Binding of prior sampling: shapes, dtypes and aliasing are checked here; parameter values (std >= 0,
// weights summing to 1, labels in range) by pyaae.priors, which also reads device arrays. Labels of
// host arrays are range-checked here too, since an out-of-range label would index past the means.
#include "bind_priors.h"

#include <optional>
#include <vector>

#include "arrays.h"

namespace pyaae::bindings {
namespace {

template <class T>
Array<T> read(bool device, py::handle obj, const std::string& name, int ndim, bool writable) {
  return device ? cuda_array<T>(obj, name, ndim, writable) : host_array<T>(obj, name, ndim, writable);
}

void sample(PriorRunner run, bool device, int kind, py::handle out_obj, py::handle index_obj, py::handle loc_obj,
            py::handle scale_obj, py::handle cdf_obj, float noise_std, py::handle labels_obj, uint64_t seed,
            uint64_t offset, int num_threads, uintptr_t stream) {
  if (kind < 0 || kind > static_cast<int>(PriorKind::Categorical)) {
    throw py::value_error("prior kind " + std::to_string(kind) + " is unknown");
  }
  if (offset > 0xffffffffull) throw py::value_error("offset must be < 2**32, got " + std::to_string(offset));
  checked_threads(num_threads);
  PriorSampling p;
  p.kind = static_cast<PriorKind>(kind);
  p.seed = seed;
  p.offset = static_cast<uint32_t>(offset);
  p.noise_std = noise_std;
  const FloatArray out = read<float>(device, out_obj, "out", 2, true);
  p.n = out.dim(0);
  p.dim = out.dim(1);
  std::vector<const FloatArray*> params;
  std::optional<FloatArray> loc, scale, cdf;
  const bool needs_cdf = p.kind != PriorKind::Gaussian && p.kind != PriorKind::Uniform;
  if (needs_cdf) {
    cdf = read<float>(device, cdf_obj, "cdf", 1, false);
    p.components = cdf->dim(0);
    if (p.components < 1) throw py::value_error("cdf must have at least one entry");
    p.cdf = cdf->data();
    params.push_back(&*cdf);
  }
  switch (p.kind) {
    case PriorKind::Gaussian:
    case PriorKind::Uniform:
      loc = read<float>(device, loc_obj, "loc", 1, false);
      scale = read<float>(device, scale_obj, "scale", 1, false);
      expect_dim(*loc, 0, p.dim, "elements", " to match out's columns");
      expect_dim(*scale, 0, p.dim, "elements", " to match out's columns");
      break;
    case PriorKind::Mixture:
      if (p.dim > kMaxMixtureDim) {
        throw py::value_error("mixture samples have at most " + std::to_string(kMaxMixtureDim) + " dimensions");
      }
      loc = read<float>(device, loc_obj, "loc", 2, false);
      scale = read<float>(device, scale_obj, "scale", 3, false);
      expect_dim(*loc, 0, p.components, "rows (components)", " to match cdf");
      expect_dim(*loc, 1, p.dim, "columns", " to match out's columns");
      expect_dim(*scale, 0, p.components, "components", " to match cdf");
      expect_dim(*scale, 1, p.dim, "rows", " to match out's columns");
      expect_dim(*scale, 2, p.dim, "columns", " to match out's columns");
      break;
    case PriorKind::SwissRoll:
      expect_dim(out, 1, 2, "columns", " (the swiss roll is 2-D)");
      break;
    case PriorKind::Categorical:
      expect_dim(out, 1, p.components, "columns", " (one-hot over the categories of cdf)");
      break;
  }
  if (loc) {
    p.loc = loc->data();
    p.scale = scale->data();
    params.push_back(&*loc);
    params.push_back(&*scale);
  }
  std::optional<Int64Array> labels, index;
  if (!labels_obj.is_none()) {
    if (p.kind != PriorKind::Mixture && p.kind != PriorKind::SwissRoll) {
      throw py::value_error("labels apply to mixtures and the swiss roll only");
    }
    labels = read<int64_t>(device, labels_obj, "labels", 1, false);
    expect_dim(*labels, 0, p.n, "elements", " to match out's rows");
    if (!device) {
      for (int64_t i = 0; i < p.n; ++i) {
        const int64_t label = labels->data()[i];
        if (label < -1 || label >= p.components) {
          throw py::value_error("labels[" + std::to_string(i) + "] = " + std::to_string(label) +
                                " is outside [-1, " + std::to_string(p.components) + ")");
        }
      }
    }
    p.labels = labels->data();
  }
  if (!index_obj.is_none()) {
    index = read<int64_t>(device, index_obj, "index", 1, true);
    expect_dim(*index, 0, p.n, "elements", " to match out's rows");
    p.index = index->data();
  }
  expect_disjoint(out, params);
  if (labels) expect_disjoint(out, std::vector<const Int64Array*>{&*labels});
  if (index) {
    expect_disjoint(*index, params);
    expect_disjoint(*index, std::vector<const FloatArray*>{&out});
    if (labels) expect_disjoint(*index, std::vector<const Int64Array*>{&*labels});
  }
  p.out = out.data();
  py::gil_scoped_release release;
  run(p, num_threads, reinterpret_cast<void*>(stream));
}

}  // namespace

void bind_priors(py::module_& m, PriorRunner run, bool device_arrays, const std::string& prefix) {
  if (!py::hasattr(m, "philox_block")) {
    m.def(
        "philox_block",
        [](uint64_t seed, uint64_t offset, uint64_t sample, uint64_t block) {
          if (offset > 0xffffffffull || block > 0xffffffffull) throw py::value_error("offset and block must be < 2**32");
          const PhiloxWords w = philox_block(seed, static_cast<uint32_t>(offset), sample, static_cast<uint32_t>(block));
          return py::make_tuple(w.w[0], w.w[1], w.w[2], w.w[3]);
        },
        py::arg("seed"), py::arg("offset"), py::arg("sample"), py::arg("block"),
        "The four Philox4x32-10 words of counter (lo(sample), hi(sample), block, offset) under key "
        "(lo(seed), hi(seed)).");
  }
  m.attr((prefix + "PRIOR_KINDS").c_str()) = py::dict(
      py::arg("gaussian") = static_cast<int>(PriorKind::Gaussian), py::arg("mixture") = static_cast<int>(PriorKind::Mixture),
      py::arg("swiss_roll") = static_cast<int>(PriorKind::SwissRoll), py::arg("uniform") = static_cast<int>(PriorKind::Uniform),
      py::arg("categorical") = static_cast<int>(PriorKind::Categorical));
  m.def(
      (prefix + "sample_prior").c_str(),
      [run, device_arrays](int kind, py::handle out, py::handle index, py::handle loc, py::handle scale, py::handle cdf,
                           float noise_std, py::handle labels, uint64_t seed, uint64_t offset, int num_threads,
                           uintptr_t stream) {
        sample(run, device_arrays, kind, out, index, loc, scale, cdf, noise_std, labels, seed, offset, num_threads,
               stream);
      },
      py::arg("kind"), py::arg("out"), py::arg("index"), py::arg("loc"), py::arg("scale"), py::arg("cdf"),
      py::arg("noise_std"), py::arg("labels"), py::arg("seed"), py::arg("offset"), py::arg("num_threads"),
      py::arg("stream") = 0,
      "Fills out [n, dim] with n samples of a prior (PRIOR_KINDS) from the Philox stream of (seed, offset); "
      "index [n] (or None) receives the component / segment / category of each sample.");
}

}  // namespace pyaae::bindings
