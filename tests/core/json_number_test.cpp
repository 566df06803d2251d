#include "faceswap/core/json_number.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>

namespace faceswap::core {
namespace {

using nlohmann::json;

TEST(JsonNumber, TakesNumbersThatFitAndNamesTheFieldOfThoseThatDoNot) {
  EXPECT_EQ(JsonNumber<int>(json::parse("256"), "size"), 256);
  EXPECT_EQ(JsonNumber<int64_t>(json::parse("-5"), "frame"), -5);
  EXPECT_EQ(JsonNumber<uint64_t>(json::parse("18446744073709551615"), "file_size"), UINT64_MAX);
  EXPECT_FLOAT_EQ(JsonNumber<float>(json::parse("0.93"), "score"), 0.93f);
  EXPECT_DOUBLE_EQ(JsonNumber<double>(json::parse("1e300"), "seconds"), 1e300);
  const std::pair<const char*, std::function<void()>> bad[] = {
      {"size must be a whole number", [] { JsonNumber<int>(json::parse("1e300"), "size"); }},
      {"size must be a whole number", [] { JsonNumber<int>(json::parse("2147483648"), "size"); }},
      {"size must be a whole number", [] { JsonNumber<int>(json::parse("2.5"), "size"); }},
      {"file_size must be a whole number", [] { JsonNumber<uint64_t>(json::parse("-1"), "file_size"); }},
      {"box must be a finite number", [] { JsonNumber<float>(json::parse("1e300"), "box"); }},
      {"box must be a finite number", [] { JsonNumber<float>(json::parse("\"1\""), "box"); }},
  };
  for (const auto& [message, read] : bad) {
    try {
      read();
      ADD_FAILURE() << "accepted: " << message;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(message, 0), 0u) << e.what();
    }
  }
  EXPECT_EQ(JsonNumberOr(json::parse(R"({"every": 3})"), "every", 1), 3);
  EXPECT_EQ(JsonNumberOr(json::parse("{}"), "every", 1), 1);
}

}  // namespace
}  // namespace faceswap::core
