#include "redis/connection.h"

#include <algorithm>

namespace walrus::redis {
namespace {

// Bytes read per recv(); replies of a 5000-command batch are ~25-60 KiB.
constexpr size_t kReadChunk = 64u << 10;

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Connect(const Endpoint& ep,
                                                        const ConnectOptions& opts) {
  auto sock = TcpSocket::Connect(ep.host, ep.port, opts.connect_timeout);
  if (!sock) return Error(sock.error().code, "redis " + sock.error().message);
  if (ep.tls) {
    if (Status st = sock->StartTls(ep.tls_config, ep.host, opts.connect_timeout); !st) {
      return Error(st.error().code, "redis " + st.error().message);
    }
  }
  std::unique_ptr<Connection> conn(new Connection(ep, opts, std::move(*sock)));
  conn->rbuf_ = std::make_unique<char[]>(kReadChunk);
  if (Status st = conn->Handshake(); !st) return st.error();
  return conn;
}

Status Connection::Handshake() {
  const std::string where = " at " + HostPort(ep_);
  std::vector<std::string> what;  // what each pipelined reply answers, for messages
  if (!ep_.password.empty()) {
    if (ep_.user.empty()) {
      Append({"AUTH", ep_.password});
    } else {
      Append({"AUTH", ep_.user, ep_.password});
    }
    what.push_back("AUTH");
  }
  if (ep_.db != 0) {
    AppendArgs("SELECT", ep_.db);
    what.push_back("SELECT " + std::to_string(ep_.db));
  }
  if (!opts_.client_name.empty()) {
    Append({"CLIENT", "SETNAME", opts_.client_name});
    what.push_back("CLIENT SETNAME");
  }
  if (what.empty()) return Status::Ok();

  auto replies = ReadReplies(what.size());
  if (!replies) return replies.error();
  for (size_t i = 0; i < what.size(); ++i) {
    const Reply& r = (*replies)[i];
    if (!r.IsError()) continue;
    Error err = r.ToError();
    if (what[i] == "AUTH") {
      // Any AUTH failure is a credentials problem for the operator, whatever the prefix
      // (e.g. "ERR AUTH <password> called without any password configured").
      const std::string who = ep_.user.empty() ? "the default user" : "user '" + ep_.user + "'";
      return Error(Errc::kAuth, "redis AUTH as " + who + where + " failed: " + err.message);
    }
    if (err.code == make_error_code(Errc::kAuth)) {
      return Error(Errc::kAuth, "redis" + where + " requires authentication (" + what[i] +
                                    " answered: " + err.message +
                                    "); put user:password in the URL");
    }
    return Error(err.code, "redis " + what[i] + where + " failed: " + err.message);
  }
  return Status::Ok();
}

Result<Reply> Connection::Command(std::initializer_list<std::string_view> argv) {
  return Command(std::span<const std::string_view>(argv.begin(), argv.size()));
}

Result<Reply> Connection::Command(std::span<const std::string_view> argv) {
  if (pending_ != 0) {
    return Error(Errc::kInvalidArgument, "Command() called with " + std::to_string(pending_) +
                                             " appended commands not yet read");
  }
  Append(argv);
  return ReadOne();
}

Result<Reply> Connection::Command(const std::vector<std::string>& argv) {
  if (pending_ != 0) {
    return Error(Errc::kInvalidArgument, "Command() called with " + std::to_string(pending_) +
                                             " appended commands not yet read");
  }
  Append(argv);
  return ReadOne();
}

Result<Reply> Connection::CommandOk(std::initializer_list<std::string_view> argv) {
  auto r = Command(argv);
  if (r && r->IsError()) return r->ToError();
  return r;
}

Result<Reply> Connection::ReadOne() {
  if (Status st = ReadReplies(1, &scratch_); !st) return st.error();
  Reply r = std::move(scratch_.front());
  scratch_.clear();
  return r;
}

Result<std::vector<Reply>> Connection::ReadReplies(size_t n) {
  std::vector<Reply> out;
  if (Status st = ReadReplies(n, &out); !st) return st.error();
  return out;
}

Status Connection::ReadReplies(size_t n, std::vector<Reply>* out) {
  out->clear();
  if (broken_) {
    return Break(Error(
        Errc::kIo, "connection to " + HostPort(ep_) + " is broken by an earlier error; reconnect"));
  }
  if (n > pending_) {
    return Error(Errc::kInvalidArgument, "ReadReplies(" + std::to_string(n) + ") with only " +
                                             std::to_string(pending_) + " commands pending");
  }
  out->reserve(n);
  if (n > 0) parser_.Recycle();  // the caller's previous replies were just released (usually)

  // Interleave sending and receiving: replies to the start of a large batch may arrive
  // while its end is still being sent, and reading them keeps both sides' buffers moving.
  while (out->size() < n || sent_ < out_.size()) {
    bool progress = false;
    if (sent_ < out_.size()) {
      auto sent = sock_.Send(out_.data() + sent_, out_.size() - sent_);
      if (!sent) return Break(sent.error());
      sent_ += *sent;
      if (sent_ == out_.size()) {
        out_.Clear();
        sent_ = 0;
      }
      progress = *sent > 0;
    }
    // Drain complete replies already buffered in the parser.
    while (out->size() < n) {
      auto next = parser_.Next();
      if (!next) return Break(next.error());
      if (!*next) break;
      out->push_back(std::move(**next));
      progress = true;
    }
    if (out->size() < n) {
      auto got = sock_.Recv(rbuf_.get(), kReadChunk);
      if (!got) return Break(got.error());
      if (*got > 0) {
        if (Status st = parser_.Feed(rbuf_.get(), *got); !st) return Break(st.error());
        progress = true;
      }
    }
    if (!progress) {
      if (Status st = sock_.Wait(out->size() < n, sent_ < out_.size(), opts_.io_timeout); !st) {
        return Break(st.error());
      }
    }
  }
  pending_ -= n;
  return Status::Ok();
}

Status Connection::Flush() {
  std::vector<Reply> none;  // n = 0: only sends; an empty vector allocates nothing
  return ReadReplies(0, &none);
}

Result<Reply> Connection::ReadPushed(std::chrono::milliseconds timeout) {
  if (broken_) {
    return Break(Error(
        Errc::kIo, "connection to " + HostPort(ep_) + " is broken by an earlier error; reconnect"));
  }
  if (pending_ != 0) {
    return Error(Errc::kInvalidArgument, "ReadPushed() called with " + std::to_string(pending_) +
                                             " commands pending");
  }
  if (sent_ < out_.size()) {  // a SUBSCRIBE appended and flushed only partly
    if (Status st = Flush(); !st) return st.error();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto next = parser_.Next();
    if (!next) return Break(next.error());
    if (*next) return std::move(**next);
    auto got = sock_.Recv(rbuf_.get(), kReadChunk);
    if (!got) return Break(got.error());
    if (*got > 0) {
      if (Status st = parser_.Feed(rbuf_.get(), *got); !st) return Break(st.error());
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error(Errc::kTimeout, "no message from " + HostPort(ep_) + " within " +
                                       std::to_string(timeout.count()) + " ms");
    }
    if (Status st = sock_.Wait(true, false, left); !st) {
      if (st.error().code == make_error_code(Errc::kTimeout)) continue;  // re-checks the deadline
      return Break(st.error());
    }
  }
}

Error Connection::Break(const Error& err) {
  broken_ = true;
  // Nothing buffered or pending will ever be answered.
  out_.Clear();
  sent_ = 0;
  pending_ = 0;
  return Error(err.code, "redis: " + err.message);
}

}  // namespace walrus::redis
