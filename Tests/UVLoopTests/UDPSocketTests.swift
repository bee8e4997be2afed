import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("UDP")
struct UDPSocketTests {
    @Test("datagrams round-trip and name their sender", arguments: ["127.0.0.1", "::1"])
    func roundTrip(host: String) async throws {
        let result = try await onLoop { loop -> (String, Bool, String, Bool) in
            let a = try UDPSocket(host: host, port: 0, on: loop)
            let b = try UDPSocket(host: host, port: 0, on: loop)
            defer { close(a, b) }
            let bAddress = try #require(b.localAddress)
            #expect(bAddress.port > 0)
            try await a.send("ping", to: bAddress)
            let ping = try await b.receive()
            try await b.send(ping.data.string.uppercased(), to: ping.sender)
            let pong = try await a.receive()
            return (ping.data.string, ping.sender == a.localAddress, pong.data.string, pong.sender.isIPv6)
        }
        #expect(result.0 == "ping")
        #expect(result.1)
        #expect(result.2 == "PING")
        #expect(result.3 == (host == "::1"))
    }

    @Test("datagrams that arrive before receive() wait for it; the sequence ends when the socket closes")
    func sequence() async throws {
        let got = try await onLoop { loop -> [String] in
            let sender = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            let receiver = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { sender.close() }
            let target = try #require(receiver.localAddress)
            // Receiving starts with the first receive(); the kernel holds what comes before.
            for word in ["one", "two", "three"] { try await sender.send(word, to: target) }
            var got: [String] = []
            for try await datagram in receiver.datagrams {
                got.append(datagram.data.string)
                if got.count == 3 { loop.spawn { receiver.close() } }
            }
            return got
        }
        #expect(got == ["one", "two", "three"])
    }

    @Test("a cancelled receive throws CancellationError and loses nothing")
    func cancelledReceive() async throws {
        let result = try await onLoop { loop -> (String, String) in
            let a = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            let b = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { close(a, b) }
            var outcome = "received"
            let receiver = loop.spawn {
                do { _ = try await b.receive() } catch is CancellationError { outcome = "cancelled" }
            }
            await Task.yield()
            receiver.cancel()
            await receiver.value
            try await a.send("after", to: try #require(b.localAddress))
            return (outcome, try await b.receive().data.string)
        }
        #expect(result.0 == "cancelled")
        #expect(result.1 == "after")
    }

    @Test("closing fails a waiting receive and later sends with the closed error")
    func closeFailsWaiters() async throws {
        let codes = try await onLoop { loop -> [Int32] in
            let socket = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            let address = try #require(socket.localAddress)
            var codes: [Int32] = []
            let receiver = loop.spawn {
                do { _ = try await socket.receive() } catch let error as UVError { codes.append(error.code) }
            }
            await Task.yield()
            socket.close()
            await receiver.value
            do { try await socket.send("late", to: address) } catch let error as UVError { codes.append(error.code) }
            return codes
        }
        #expect(codes == [UVError.Code.closed, UVError.Code.closed])
    }

    @Test("binding a port in use fails with EADDRINUSE unless both sockets reuse the address")
    func addressInUse() async throws {
        let result = try await onLoop { loop -> (String, Bool) in
            let first = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { first.close() }
            let port = try #require(first.localAddress?.port)
            var message = "bound twice"
            do {
                let second = try UDPSocket(host: "127.0.0.1", port: port, on: loop)
                second.close()
            } catch let error as UVError {
                message = error.description
            }
            let shared1 = try UDPSocket(host: "127.0.0.1", port: 0, reuseAddress: true, on: loop)
            defer { shared1.close() }
            let shared2 = try UDPSocket(host: "127.0.0.1", port: try #require(shared1.localAddress?.port), reuseAddress: true, on: loop)
            shared2.close()
            return (message, true)
        }
        #expect(result.0.hasPrefix("bind UDP socket to 127.0.0.1:"))
        #expect(result.0.hasSuffix("failed: EADDRINUSE (address already in use)"))
        #expect(result.1)
    }

    @Test("a datagram over the UDP limit fails with EMSGSIZE")
    func tooLarge() async throws {
        let code = try await onLoop { loop -> Int32 in
            let socket = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { socket.close() }
            do {
                try await socket.send(Bytes([UInt8](repeating: 0, count: 70_000)), to: try #require(socket.localAddress))
                return 0
            } catch let error as UVError {
                return error.code
            }
        }
        #expect(code == -EMSGSIZE)
    }

    @Test("options are applied; invalid values and non-group addresses fail with EINVAL")
    func options() async throws {
        let codes = try await onLoop { loop -> [Int32] in
            let socket = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { socket.close() }
            try socket.setBroadcast(true)
            try socket.setTTL(64)
            try socket.setMulticastTTL(1)
            try socket.setMulticastLoopback(true)
            try socket.setMulticastInterface("127.0.0.1")
            var codes: [Int32] = []
            do { try socket.setTTL(0) } catch let error as UVError { codes.append(error.code) }
            do { try socket.joinMulticastGroup("127.0.0.1") } catch let error as UVError { codes.append(error.code) }
            return codes
        }
        #expect(codes == [UVError.Code.invalidArgument, UVError.Code.invalidArgument])
    }

    @Test("a socket that joined a multicast group on loopback receives what is sent to the group")
    func multicast() async throws {
        let got = try await onLoop { loop -> String in
            // Bound to the group address itself, not 0.0.0.0: it receives only the group's datagrams.
            let receiver = try UDPSocket(host: "239.255.77.77", port: 0, on: loop)
            let sender = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { close(receiver, sender) }
            try receiver.joinMulticastGroup("239.255.77.77", interface: "127.0.0.1")
            try sender.setMulticastInterface("127.0.0.1")
            try sender.setMulticastTTL(0)
            let group = try SocketAddress(host: "239.255.77.77", port: try #require(receiver.localAddress?.port))
            try await sender.send("to the group", to: group)
            let datagram = try await loop.withTimeout(.seconds(5)) { try await receiver.receive() }
            try receiver.leaveMulticastGroup("239.255.77.77", interface: "127.0.0.1")
            return datagram.data.string
        }
        #expect(got == "to the group")
    }
}
