// Component tests of TLS connections (rediss://) against a real redis-server with tls-port,
// using certificates made by the openssl command line in a temporary directory.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "redis/connection.h"
#include "testing/child_process.h"
#include "testing/free_port.h"
#include "testing/redis_server.h"

namespace walrus::redis {
namespace {

using test::RedisServer;
using test::RunCommand;

// A CA, a server certificate for 127.0.0.1/localhost signed by it, a client certificate, and
// an unrelated second CA.
class Certs {
 public:
  Certs() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "walrus-tls-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data()) ? tmpl : "";
    ok_ = !dir_.empty() && MakeCa("ca") && MakeCa("other-ca") &&
          MakeLeaf("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost") &&
          MakeLeaf("client", "ca", "extendedKeyUsage=clientAuth");
  }
  ~Certs() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string error() const { return error_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  bool Run(const std::vector<std::string>& argv) {
    auto r = RunCommand(argv);
    if (!r) error_ += r.error().message + "\n";
    return r.ok();
  }
  bool MakeCa(const std::string& n) {
    return Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=walrus test " + n, "-keyout", Path(n + ".key"), "-out",
                Path(n + ".crt")});
  }
  bool MakeLeaf(const std::string& n, const std::string& ca, const std::string& ext) {
    return Run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + n,
                "-keyout", Path(n + ".key"), "-out", Path(n + ".csr")}) &&
           Run({"sh", "-c", "printf '%s\\n' '" + ext + "' > " + Path(n + ".ext")}) &&
           Run({"openssl", "x509", "-req", "-in", Path(n + ".csr"), "-CA", Path(ca + ".crt"),
                "-CAkey", Path(ca + ".key"), "-CAcreateserial", "-days", "2", "-extfile",
                Path(n + ".ext"), "-out", Path(n + ".crt")});
  }

  std::string dir_;
  std::string error_;
  bool ok_ = false;
};

struct TlsServer {
  std::unique_ptr<RedisServer> srv;
  int tls_port = 0;
};

TlsServer StartTls(const Certs& c, const std::string& auth_clients) {
  TlsServer t;
  t.tls_port = test::FreePort();
  auto srv = RedisServer::Start(
      {.args = {"--tls-port", std::to_string(t.tls_port), "--tls-cert-file", c.Path("server.crt"),
                "--tls-key-file", c.Path("server.key"), "--tls-ca-cert-file", c.Path("ca.crt"),
                "--tls-auth-clients", auth_clients}});
  EXPECT_TRUE(srv.ok()) << srv.error().message;
  if (srv.ok()) t.srv = std::move(*srv);
  return t;
}

Endpoint TlsEndpoint(const Certs& c, int port) {
  Endpoint ep = *ParseRedisUrl("rediss://127.0.0.1:" + std::to_string(port));
  ep.tls_config.ca_file = c.Path("ca.crt");
  return ep;
}

TEST(Tls, VerifiedConnectionCarriesLargeBatches) {
  Certs certs;
  ASSERT_TRUE(certs.ok()) << certs.error();
  auto t = StartTls(certs, "no");
  ASSERT_TRUE(t.srv);
  auto c = Connection::Connect(TlsEndpoint(certs, t.tls_port));
  ASSERT_TRUE(c.ok()) << c.error().message;
  // Larger than the socket buffers both ways: partial TLS writes and reads interleave.
  const std::string value(200, 'v');
  constexpr int kN = 20000;
  for (int i = 0; i < kN; ++i) (*c)->AppendArgs("SET", "k" + std::to_string(i), value);
  (*c)->Append({"DBSIZE"});
  auto replies = (*c)->ReadReplies(kN + 1);
  ASSERT_TRUE(replies.ok()) << replies.error().message;
  EXPECT_TRUE((*replies)[0].IsStatus("OK"));
  EXPECT_EQ(replies->back().integer(), kN);
  // The server name can also be given explicitly (SNI + verification).
  Endpoint named = TlsEndpoint(certs, t.tls_port);
  named.tls_config.server_name = "localhost";
  auto c2 = Connection::Connect(named);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  EXPECT_EQ((*c2)->Command({"GET", "k7"})->str(), value);
}

TEST(Tls, WrongCaOrNameFailsClearly) {
  Certs certs;
  ASSERT_TRUE(certs.ok()) << certs.error();
  auto t = StartTls(certs, "no");
  ASSERT_TRUE(t.srv);
  Endpoint wrong_ca = TlsEndpoint(certs, t.tls_port);
  wrong_ca.tls_config.ca_file = certs.Path("other-ca.crt");
  auto c = Connection::Connect(wrong_ca);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().Is(Errc::kIo)) << c.error().message;
  EXPECT_NE(c.error().message.find("certificate verify failed"), std::string::npos)
      << c.error().message;

  Endpoint wrong_name = TlsEndpoint(certs, t.tls_port);
  wrong_name.tls_config.server_name = "redis.example.com";
  c = Connection::Connect(wrong_name);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("hostname mismatch"), std::string::npos) << c.error().message;

  Endpoint missing = TlsEndpoint(certs, t.tls_port);
  missing.tls_config.ca_file = certs.Path("no-such.crt");
  c = Connection::Connect(missing);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().Is(Errc::kInvalidArgument)) << c.error().message;
  EXPECT_NE(c.error().message.find("--redis-tls-ca"), std::string::npos) << c.error().message;

  // Without verification the wrong CA is accepted (tests only).
  Endpoint insecure = wrong_ca;
  insecure.tls_config.verify = false;
  EXPECT_TRUE(Connection::Connect(insecure).ok());
}

TEST(Tls, TlsToPlainPortFailsClearly) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv.ok()) << srv.error().message;
  Endpoint ep = *ParseRedisUrl("rediss://127.0.0.1:" + std::to_string((*srv)->port()));
  auto c = Connection::Connect(ep, {.connect_timeout = std::chrono::milliseconds(2000)});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("TLS handshake"), std::string::npos) << c.error().message;
}

TEST(Tls, ClientCertificateWhenRequired) {
  Certs certs;
  ASSERT_TRUE(certs.ok()) << certs.error();
  auto t = StartTls(certs, "yes");
  ASSERT_TRUE(t.srv);
  Endpoint ep = TlsEndpoint(certs, t.tls_port);
  auto without = Connection::Connect(ep);
  EXPECT_FALSE(without.ok());  // the server refuses the handshake (or the first command)
  ep.tls_config.cert_file = certs.Path("client.crt");
  ep.tls_config.key_file = certs.Path("client.key");
  auto with = Connection::Connect(ep);
  ASSERT_TRUE(with.ok()) << with.error().message;
  EXPECT_TRUE((*with)->Command({"PING"})->IsStatus("PONG"));
}

}  // namespace
}  // namespace walrus::redis
