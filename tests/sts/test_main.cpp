#define BOOST_TEST_MODULE sts
#include <boost/test/unit_test.hpp>
