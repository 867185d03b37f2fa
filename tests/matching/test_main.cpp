#define BOOST_TEST_MODULE matching
#include <boost/test/unit_test.hpp>
