#pragma once

// The host:port parser moved to core/host_port.h (every client library uses it; redis must not
// depend on http). These names keep http::HostPort / http::ParseHostPort callers compiling.

#include "core/host_port.h"

namespace walrus::http {

using walrus::HostPort;
using walrus::ParseHostPort;

}  // namespace walrus::http
