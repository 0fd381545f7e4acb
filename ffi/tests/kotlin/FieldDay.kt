// A grid worker's field day through the generated Kotlin bindings on the JVM (JNA), against a real
// `gridwork demo` server: the Kotlin twin of ffi/tests/test_field_day.py. Receive a task, lose the
// network (the server stops), claim, start, photograph, resolve, report a new problem, come back
// online, and check on the server that everything arrived exactly once and in order.
//
// Usage (see run.sh): java … FieldDayKt GRIDWORK_BINARY

import java.awt.Color
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import org.gridwork.core.FieldClient
import org.gridwork.core.FieldListener
import org.gridwork.core.GeoPoint
import org.gridwork.core.GridworkException
import org.gridwork.core.QueueSummary
import org.gridwork.core.coreVersion
import org.gridwork.core.normalizeAreaCode
import org.gridwork.core.processPhoto

const val PASSWORD = "gridwork-demo"

// Inside demo grid 420102003001001, where worker.wang is on duty.
val SPOT = GeoPoint(lat = 30.5852, lng = 114.2778)

fun check(ok: Boolean, what: () -> String) {
    if (!ok) throw AssertionError(what())
}

fun <T> checkEq(got: T, want: T, what: String) = check(got == want) { "$what: got $got, want $want" }

/** A real PNG from the JDK's encoder: left half red, right half blue; `tint` makes equal sizes differ. */
fun png(width: Int, height: Int, tint: Int): ByteArray {
    val img = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
    val g = img.createGraphics()
    g.color = Color(0xDC, 0x14, tint % 256)
    g.fillRect(0, 0, width / 2, height)
    g.color = Color(0x14, tint % 256, 0xDC)
    g.fillRect(width / 2, 0, width - width / 2, height)
    g.dispose()
    return ByteArrayOutputStream().also { ImageIO.write(img, "png", it) }.toByteArray()
}

fun freePort(): Int = ServerSocket(0).use { it.localPort }

/** `gridwork demo` on a port, over a data folder that outlives restarts. */
class Server(private val binary: String, private val dataDir: File, val port: Int) {
    val base = "http://127.0.0.1:$port"
    private var proc: Process? = null
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()

    fun start() {
        dataDir.mkdirs()
        val pb = ProcessBuilder(binary, "demo", "--listen", "127.0.0.1:$port")
        pb.environment()["GRIDWORK_DATA_DIR"] = dataDir.path
        pb.environment()["GRIDWORK_LOG"] = "warn"
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD)
        pb.redirectError(ProcessBuilder.Redirect.appendTo(File(dataDir, "server.log")))
        proc = pb.start()
        repeat(300) {
            try {
                if (call("GET", "/readyz").first == 200) return
            } catch (_: java.io.IOException) {
            }
            Thread.sleep(100)
        }
        throw IllegalStateException("the server did not become ready: " + File(dataDir, "server.log").readText().takeLast(2000))
    }

    fun stop() {
        val p = proc ?: return
        p.destroy() // SIGTERM: a graceful stop
        check(p.waitFor(30, TimeUnit.SECONDS)) { "the server did not stop" }
    }

    fun call(method: String, path: String, token: String? = null, body: JsonElement? = null, headers: Map<String, String> = emptyMap()): Pair<Int, JsonElement?> {
        val req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .method(method, body?.let { HttpRequest.BodyPublishers.ofString(it.toString()) } ?: HttpRequest.BodyPublishers.noBody())
        token?.let { req.header("Authorization", "Bearer $it") }
        headers.forEach { (k, v) -> req.header(k, v) }
        val res = http.send(req.build(), HttpResponse.BodyHandlers.ofString())
        val parsed = res.body().takeIf { it.isNotBlank() }?.let { runCatching { Json.parseToJsonElement(it) }.getOrNull() }
        return res.statusCode() to parsed
    }

    fun login(username: String): String {
        val (status, body) = call("POST", "/api/v1/auth/login", body = buildJsonObject {
            put("username", username)
            put("password", PASSWORD)
        })
        checkEq(status, 200, "sign-in of $username")
        return body!!.jsonObject.str("token")
    }
}

fun JsonObject.str(key: String): String = (this[key] as JsonPrimitive).content
fun JsonElement.obj(key: String): JsonObject = jsonObject[key]!!.jsonObject
fun JsonElement.arr(key: String): JsonArray = jsonObject[key]!!.jsonArray

class Listener : FieldListener {
    val summaries = mutableListOf<Triple<UInt, UInt, UInt>>()
    var taskChanges = 0
    val progress = mutableListOf<Pair<UInt, Boolean>>()

    @Synchronized override fun queueChanged(summary: QueueSummary) {
        summaries.add(Triple(summary.pending, summary.sending, summary.conflicts))
    }

    @Synchronized override fun tasksChanged() {
        taskChanges += 1
    }

    @Synchronized override fun syncProgress(received: UInt, more: Boolean) {
        progress.add(received to more)
    }
}

/** The pure exports: errors arrive as typed exceptions with their field and code. */
fun pureExports() {
    check(coreVersion().isNotEmpty()) { "no core version" }
    try {
        normalizeAreaCode("a b")
        throw AssertionError("a bad area code was accepted")
    } catch (e: GridworkException.Validation) {
        checkEq(e.field, "area_code", "error field")
        checkEq(e.code, "invalid_format", "error code")
        check(e.detail.isNotEmpty() && e.message!!.contains("area_code")) { "error text: ${e.message}" }
    }
    val photo = processPhoto(png(3000, 2000, 7))
    checkEq(photo.width to photo.height, 2048u to 1365u, "processed photo size")
    checkEq(photo.sourceFormat, "png", "source format")
    check(photo.jpeg.size > 100 && photo.jpeg[0] == 0xFF.toByte() && photo.jpeg[1] == 0xD8.toByte()) { "not a JPEG" }
    try {
        processPhoto("not an image".toByteArray())
        throw AssertionError("text was accepted as a photo")
    } catch (e: GridworkException.Validation) {
        checkEq(e.code, "not_an_image", "text photo code")
    }
}

suspend fun day(server: Server, phoneDb: String) {
    // A resident reports; the street coordinator accepts; dispatch gives it to worker.wang.
    val chen = server.login("resident.chen")
    var coord = server.login("coordinator")
    val (s1, reported) = server.call("POST", "/api/v1/events", chen, buildJsonObject {
        put("category", "C-03-01")
        put("lat", SPOT.lat)
        put("lng", SPOT.lng)
        put("description", "垃圾桶满溢 kotlin")
    }, mapOf("Idempotency-Key" to "kt-field-day-1"))
    checkEq(s1, 201, "report: $reported")
    val eid = reported!!.jsonObject.str("id")
    val (s2, accepted) = server.call("POST", "/api/v1/events/$eid/actions", coord, buildJsonObject { put("action", "accept") })
    checkEq(s2, 200, "accept: $accepted")
    checkEq(accepted!!.jsonObject.str("state"), "dispatched", "state after accept")

    val phone = FieldClient(server.base, phoneDb, 3000u)
    val listener = Listener()
    phone.setListener(listener)
    val wangId = phone.signIn("worker.wang", PASSWORD)
    checkEq(accepted.arr("assignees").map { it.jsonPrimitive.content }, listOf(wangId), "assignees")
    val synced = phone.sync()
    checkEq(synced.openTasks, 1u, "open tasks after sync")
    checkEq(phone.tasks().map { it.eventId }, listOf(eid), "task list")
    check(synced(listener) { progress.isNotEmpty() }) { "no sync progress heard" }

    // The network is gone.
    server.stop()
    phone.claim(eid)
    phone.startWork(eid)
    try {
        phone.resolve(eid, emptyList(), null)
        throw AssertionError("a resolve without a photo was accepted")
    } catch (e: GridworkException.Validation) {
        checkEq(e.code, "evidence_required", "local refusal")
    }
    phone.resolve(eid, listOf(png(640, 480, 1)), SPOT)
    phone.recordLocation(SPOT, 6.0)
    val localId = phone.report("E-01-02", GeoPoint(SPOT.lat + 0.001, SPOT.lng), "楼道堆物 kt-field-day", "大智路 3 号", listOf(png(800, 600, 2)))
    val task = phone.tasks().first { it.eventId == eid }
    checkEq(task.eventState to task.taskState, "resolved" to "resolved", "local states")
    val cached = phone.event(eid) ?: error("the task's event is not on the phone")
    checkEq(cached.state to cached.resolvedParts, "resolved" to listOf(wangId), "the cached event")
    checkEq(phone.event(localId)?.source, "grid_worker", "the local report's source")
    check(task.pendingOps >= 4u) { "pending ops ${task.pendingOps}" }
    check(phone.tasks().any { it.eventId == localId && it.localOnly }) { "the local report is not listed" }
    val offline = phone.flush()
    check(offline.interrupted) { "an offline flush was not interrupted" }
    checkEq(offline.sent, 0u, "sent while offline")
    checkEq(phone.summary().pending, 7u, "pending while offline")

    // Back online: the queue drains in order, once.
    server.start()
    val online = phone.flush()
    checkEq(Triple(online.sent, online.conflicts, online.remaining), Triple(7u, 0u, 0u), "online flush")
    checkEq(phone.summary().pending, 0u, "pending after flush")
    coord = server.login("coordinator")
    val (_, detail) = server.call("GET", "/api/v1/events/$eid", coord)
    val actions = detail!!.arr("timeline").map { it.jsonObject.str("action") }
    checkEq(actions.takeLast(3), listOf("claim", "start", "resolve"), "last actions")
    for (a in listOf("claim", "start", "resolve")) checkEq(actions.count { it == a }, 1, "count of $a")
    val after = detail.obj("evidence").arr("after")
    checkEq(after.size, 1, "after-photos")
    checkEq(after[0].jsonObject["cited"]!!.jsonPrimitive.content, "true", "after-photo cited")
    checkEq(after[0].arr("flags").size, 0, "after-photo flags")
    val (_, listing) = server.call("GET", "/api/v1/events?limit=200", coord)
    val mine = listing!!.arr("events").filter { it.jsonObject.str("description") == "楼道堆物 kt-field-day" }
    checkEq(mine.size, 1, "reports on the server")
    val (_, photos) = server.call("GET", "/api/v1/events/${mine[0].jsonObject.str("id")}/evidence", coord)
    checkEq(photos!!.arr("before").size, 1, "before-photos of the report")
    check(phone.tasks().none { it.eventId == localId }) { "the local id is still listed" }
    // Sent again after the answers were in: nothing new on the server.
    checkEq(phone.flush().sent, 0u, "second flush")
    check(synced(listener) { Triple(0u, 0u, 0u) in summaries && taskChanges > 0 }) { "the listener missed the drain" }
    phone.destroy()
}

fun <T> synced(lock: Listener, f: Listener.() -> T): T = synchronized(lock) { lock.f() }

fun main(args: Array<String>) {
    val binary = args.getOrNull(0) ?: error("usage: FieldDayKt GRIDWORK_BINARY")
    pureExports()
    val tmp = Files.createTempDirectory("gridwork-kt").toFile()
    try {
        val server = Server(binary, File(tmp, "server"), freePort())
        server.start()
        try {
            runBlocking { day(server, File(tmp, "phone/gridwork.sqlite").path) }
        } finally {
            server.stop()
        }
    } finally {
        tmp.deleteRecursively()
    }
    println("kotlin field day: ok")
}
