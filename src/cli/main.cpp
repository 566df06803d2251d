#include "faceswap/cli/commands.h"

int main(int argc, char** argv) { return faceswap::cli::Main(argc, argv); }
