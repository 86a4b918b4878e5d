import AdminModels
import Delivery
import Directory
import Hummingbird

/// `/api/v1/accounts/:address/sieve…`, `…/vacation` and `…/rules/test`: an account's mail
/// rules. Role checks and audit entries are in the operations (LocalDelivery+SieveAdmin).
func addSieveRoutes(_ api: APIGroup, _ delivery: LocalDelivery) {
    api.get("accounts/:address/sieve") { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.sieveScripts(address, actor: $0) }
    }
    api.get("accounts/:address/sieve/:name") { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.sieveScript(address, name: name, actor: $0) }
    }
    api.post("accounts/:address/sieve/:name") { req, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        let body = try await JSONBody.decode(SievePut.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.putSieveScript(address, name: name, body, actor: $0) }
    }
    api.post("accounts/:address/sieve/:name/activate") { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.activateSieveScript(address, name: name, actor: $0) }
    }
    api.post("accounts/:address/sieve-deactivate") { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.deactivateSieve(address, actor: $0) }
    }
    api.delete("accounts/:address/sieve/:name") { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.deleteSieveScript(address, name: name, actor: $0) }
    }
    api.get("accounts/:address/vacation") { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.vacation(address, actor: $0) }
    }
    api.post("accounts/:address/vacation") { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(VacationSet.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.setVacation(address, body, actor: $0) }
    }
    api.delete("accounts/:address/vacation") { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.clearVacation(address, actor: $0) }
    }
    api.get("accounts/:address/forward") { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.forward(address, actor: $0) }
    }
    api.post("accounts/:address/forward") { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(ForwardSet.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.setForward(address, body, actor: $0) }
    }
    api.delete("accounts/:address/forward") { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.clearForward(address, actor: $0) }
    }
    api.post("accounts/:address/rules/test") { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(RulesTest.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.testRules(address, body, actor: $0) }
    }
}
