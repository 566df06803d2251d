#pragma once
// How convert shares the CPU among its stages. Every stage is a thread of its own
// (decoding, tracking, the network, blending workers, encoding), so each library's own
// thread pool is sized to leave room for the others instead of each taking every core:
// oversubscribed pools spend their time spinning and switching, not working.
//
//   const ThreadBudget budget = ConvertThreadBudget(options.threads);   // 0: all cores

namespace faceswap::pipeline {

struct ThreadBudget {
  int cores = 1;           // what the whole pipeline may use
  int decoder = 1;         // FFmpeg decoder threads
  int network = 1;         // LibTorch intra-op threads (and its BLAS pool) for the model
  int blend_workers = 2;   // threads that composite faces into frames
  int opencv = 1;          // OpenCV's own pool (cv::setNumThreads), per call inside a stage
  int encoder = 0;         // FFmpeg encoder threads; 0: the encoder's own choice
};

// The split for `threads` cores (0: all of this machine's).
ThreadBudget ConvertThreadBudget(int threads);

}  // namespace faceswap::pipeline
