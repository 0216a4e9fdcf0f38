#include "http/router.h"

#include <stdexcept>

#include "http/health_routes.h"

#include <gtest/gtest.h>

namespace walrus::http {
namespace {

Router Routes() {
  Router r;
  auto none = [](const Request&, Response&, const Params&) {};
  r.Add("GET", "/api/regions", false, none);
  r.Add("GET", "/api/regions/:region/state", false, none);
  r.Add("GET", "/api/regions/:region/key/*key", false, none);
  r.Add("POST", "/api/produce", true, none);
  r.Add("POST", "/api/sim/start", true, none);
  r.Add("GET", "/api/sim", false, none);
  r.Add("GET", "/", false, none);
  return r;
}

TEST(Router, LiteralsAndParams) {
  Router r = Routes();
  auto m = r.Find("GET", "/api/regions");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.pattern, "/api/regions");
  m = r.Find("GET", "/api/regions/eu/state");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/regions/:region/state");
  EXPECT_EQ(m.params.at("region"), "eu");
  EXPECT_TRUE(r.Find("POST", "/api/produce").route->needs_auth);
  EXPECT_FALSE(r.Find("GET", "/api/sim").route->needs_auth);
  EXPECT_NE(r.Find("GET", "/").route, nullptr);
  EXPECT_NE(r.Find("HEAD", "/api/sim").route, nullptr);
}

TEST(Router, RestParamTakesSlashes) {
  Router r = Routes();
  auto m = r.Find("GET", "/api/regions/us/key/cart:a/b c");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("region"), "us");
  EXPECT_EQ(m.params.at("key"), "cart:a/b c");
  EXPECT_EQ(r.Find("GET", "/api/regions/us/key/").route, nullptr);
  EXPECT_EQ(r.Find("GET", "/api/regions/us/key").route, nullptr);
}

TEST(Router, NotFoundAndMethodNotAllowed) {
  Router r = Routes();
  auto m = r.Find("GET", "/api/nope");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "");
  m = r.Find("GET", "/api/produce");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "POST");
  EXPECT_EQ(m.pattern, "/api/produce");
  m = r.Find("DELETE", "/api/regions/us/state");
  EXPECT_EQ(m.allow, "GET");
  EXPECT_EQ(r.Find("GET", "/api/regions//state").route, nullptr);  // empty :param
  EXPECT_EQ(r.Find("GET", "/api/regions/us/state/x").route, nullptr);
  EXPECT_EQ(r.Find("GET", "/api/regionsx").route, nullptr);
}

TEST(Router, AddingTheSameMethodAndPatternReplaces) {
  Router r;
  int which = 0;
  r.Add("GET", "/x", false, [&](const Request&, Response&, const Params&) { which = 1; });
  r.Add("GET", "/x", true, [&](const Request&, Response&, const Params&) { which = 2; },
        Lane::kInline);
  auto m = r.Find("GET", "/x");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.route->needs_auth);
  EXPECT_EQ(m.route->lane, Lane::kInline);
  Request req;
  Response res;
  m.route->handler(req, res, m.params);
  EXPECT_EQ(which, 2);
}

TEST(ReplyError, IsJsonEvenForInvalidUtf8) {
  Response res;
  ReplyError(res, 404, "no key '\xff'");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body.rfind("{\"error\":\"no key '", 0), 0u) << res.body;
}

TEST(HealthRoutes, OneAnswerForEveryCheck) {
  EXPECT_EQ(CheckResponse(nullptr).status, 200);
  EXPECT_EQ(CheckResponse(nullptr).body, R"({"detail":"","status":"ok"})");
  Response down = CheckResponse([] { return std::pair{false, std::string("no group")}; });
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body, R"({"detail":"no group","status":"unavailable"})");
  Response threw = CheckResponse([]() -> std::pair<bool, std::string> {
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(threw.status, 503);
  EXPECT_EQ(threw.body, R"({"detail":"check failed: boom","status":"unavailable"})");

  Router r;
  AddHealthRoutes(r, {.metrics = [] { return std::string("m 1\n"); },
                      .liveness_lane = Lane::kInline});
  auto m = r.Find("GET", "/healthz");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->lane, Lane::kInline);
  EXPECT_EQ(r.Find("GET", "/readyz").route->lane, Lane::kReserved);
  auto metrics = r.Find("HEAD", "/metrics");
  ASSERT_NE(metrics.route, nullptr);
  EXPECT_EQ(metrics.route->lane, Lane::kInline);
  Response res;
  metrics.route->handler(Request{}, res, metrics.params);
  EXPECT_EQ(res.body, "m 1\n");
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace walrus::http
