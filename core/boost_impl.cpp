// The compiled parts of Boost.JSON and Boost.URL, built once into onair_core
// (Debian ships them as header-only sources; no extra library to install).
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
