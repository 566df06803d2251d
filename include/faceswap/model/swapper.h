#pragma once
// model::Swapper: inference for convert, eval and previews. LibTorch-free header:
// aligned face crops in, faces drawn by another identity's decoder out.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "faceswap/model/device.h"
#include "faceswap/model/model_info.h"
#include "faceswap/model/precision.h"

namespace faceswap::model {

struct SwapOutput {
  cv::Mat face;  // CV_8UC3 BGR, resolution() x resolution()
  // CV_32FC1 in [0, 1]: where the drawn face may go: where the source face is not covered
  // (judged by how well the model redraws it, and by the occlusion network of models that
  // have one), and for `hd` the region its decoder draws. Empty when masks are off. At the
  // side the network draws, which is smaller than the face's when exemplar detail draws it.
  cv::Mat mask;
  // The mask also outlines the face (`hd`'s decoder). Otherwise it only says what covers
  // it, and the landmark hull must say where the face is.
  bool mask_outlines_face = false;
};

class Swapper {
 public:
  // Loads model.json and the newest intact weights. ModelError when the folder is not a
  // model; DeviceError when CUDA is requested but unusable or the device cannot compute in
  // `precision` (model::CheckPrecision).
  explicit Swapper(const std::filesystem::path& model_dir, DeviceKind device = DeviceKind::kAuto,
                   Precision precision = Precision::kFp32);
  ~Swapper();
  Swapper(const Swapper&) = delete;
  Swapper& operator=(const Swapper&) = delete;

  const ModelInfo& info() const;
  int resolution() const;  // side of the faces it returns (crop faces at this size)
  DeviceKind device() const;
  Precision precision() const;

  // Encodes each aligned face (BGR 8-bit; resized to the encoder's side when needed) and
  // decodes it as `identity`. Runs in batches of at most `batch_size`.
  std::vector<SwapOutput> Swap(const std::vector<cv::Mat>& faces, int identity, int batch_size = 16);

  // Whether Swap finds what covers each face (on by default). Finding it redraws each face
  // with every identity's decoder; callers that blend with the landmark hull alone turn it
  // off.
  void set_masks(bool on);
  bool masks() const;

  // Draws `identity`'s faces at the crops' full side (resolution() becomes `side`) with
  // detail taken from that person's own real crops (BGR, side x side; see
  // model/exemplar_detail.h), which `load` returns the first time Swap draws that identity
  // (convert learns whom it draws from the first face it finds; reading and preparing
  // 400 crops takes about a second). For models without a detail stage (`lite`,
  // `original`, `hd`); UsageError otherwise. Every identity drawn must then be given its
  // crops (an empty list draws the plain enlargement).
  using ExemplarLoader = std::function<std::vector<cv::Mat>()>;
  void SetExemplars(int identity, ExemplarLoader load, int side);
  // Why SetExemplars would refuse crops of `side` px for this model (empty when it takes them).
  std::string ExemplarsUnfit(int side) const;
  // Reads and prepares now the exemplars of `identity` (-1: of every identity that has a
  // loader), for callers that cannot wait at their first face (live).
  void PrepareExemplars(int identity = -1);

  // The identity a face of `source` becomes by default: the other one of a two-identity
  // model. UsageError for models with more identities (the caller must say --to).
  int DefaultTarget(int source) const;
  int IdentityIndex(const std::string& name) const;  // UsageError listing names when unknown

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::model
