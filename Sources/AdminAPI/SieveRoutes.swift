import AdminModels
import Delivery
import Directory
import Hummingbird

/// `/api/v1/accounts/:address/sieve…`, `…/vacation` and `…/rules/test`: an account's mail
/// rules. Role checks and audit entries are in the operations (LocalDelivery+SieveAdmin).
func addSieveRoutes(_ api: APIGroup, _ delivery: LocalDelivery) {
    api.get("accounts/:address/sieve", "The account's Sieve scripts", returns: [SieveScriptView].self) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.sieveScripts(address, actor: $0) }
    }
    api.get("accounts/:address/sieve/:name", "A Sieve script", returns: SieveScriptView.self) { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.sieveScript(address, name: name, actor: $0) }
    }
    api.post("accounts/:address/sieve/:name", "Store a Sieve script", body: SievePut.self, returns: SieveScriptView.self) { req, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        let body = try await JSONBody.decode(SievePut.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.putSieveScript(address, name: name, body, actor: $0) }
    }
    api.post("accounts/:address/sieve/:name/activate", "Make a script the active one", returns: SieveScriptView.self) { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.activateSieveScript(address, name: name, actor: $0) }
    }
    api.post("accounts/:address/sieve-deactivate", "No active script", returns: [SieveScriptView].self) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.deactivateSieve(address, actor: $0) }
    }
    api.delete("accounts/:address/sieve/:name", "Delete a script", returns: [SieveScriptView].self) { _, ctx in
        let (address, name) = (try param(ctx, "address"), try param(ctx, "name"))
        return try await run(ctx) { try delivery.deleteSieveScript(address, name: name, actor: $0) }
    }
    api.get("accounts/:address/vacation", "The vacation reply", returns: VacationView.self) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.vacation(address, actor: $0) }
    }
    api.post("accounts/:address/vacation", "Set the vacation reply", body: VacationSet.self, returns: VacationView.self) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(VacationSet.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.setVacation(address, body, actor: $0) }
    }
    api.delete("accounts/:address/vacation", "Turn the vacation reply off", returns: VacationView.self) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.clearVacation(address, actor: $0) }
    }
    api.get("accounts/:address/forward", "Forwarding", returns: ForwardView.self) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.forward(address, actor: $0) }
    }
    api.post("accounts/:address/forward", "Forward the account's mail", body: ForwardSet.self, returns: ForwardView.self) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(ForwardSet.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.setForward(address, body, actor: $0) }
    }
    api.delete("accounts/:address/forward", "Stop forwarding", returns: ForwardView.self) { _, ctx in
        let address = try param(ctx, "address")
        return try await run(ctx) { try delivery.clearForward(address, actor: $0) }
    }
    api.post("accounts/:address/rules/test", "What the account's rules would do with a message", body: RulesTest.self, returns: RulesTestView.self) { req, ctx in
        let address = try param(ctx, "address")
        let body = try await JSONBody.decode(RulesTest.self, from: req, context: ctx)
        return try await run(ctx) { try delivery.testRules(address, body, actor: $0) }
    }
}
