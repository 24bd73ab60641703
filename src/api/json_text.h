// JSON text of a rendered response, as boost::json::serialize writes it except for numbers
// with a fraction: those are written in plain shortest decimal that reads back as the same
// double (0.3, not Boost's 3E-1; an integral double as 1.0), so a value a client wrote reads
// back in the form it was written. Pure, thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace ts::api {

std::string SerializeJson(const boost::json::value& value);

}  // namespace ts::api
