// exit_code_of — run one subcommand coroutine on its own io_context to the
// end and return the exit code it produced.
//
// For the one-shot subcommands (`resolve`, `probe`) that do network I/O.
// The loop is stopped as soon as the coroutine returns: a cancelled DNS
// lookup's timer would otherwise keep io.run() busy until it expires. An
// exception out of the coroutine is a programming error and is rethrown.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>

namespace dsproxy::cli {

inline int exit_code_of(boost::asio::io_context& io, boost::asio::awaitable<int> body, int if_unfinished) {
    int rc = if_unfinished;
    boost::asio::co_spawn(io, std::move(body), [&rc, &io](std::exception_ptr e, int result) {
        if (e) std::rethrow_exception(e);
        rc = result;
        io.stop();
    });
    io.run();
    return rc;
}

}  // namespace dsproxy::cli
