//! Titles and bodies of push notifications, per kind, in Simplified Chinese (the default) and
//! English. The data payload carries the same facts for the app to render itself.

/// (title, body) for a notification kind in the device's locale.
pub fn text(kind: &str, locale: &str, category: &str) -> (String, String) {
    let en = locale.to_ascii_lowercase().starts_with("en");
    let (zh_t, zh_b, en_t, en_b) = match kind {
        "task_assigned" => ("新任务", "有一件事件派给您处置", "New task", "An event was assigned to you"),
        "task_withdrawn" => {
            ("任务已改派", "该事件已交由他人处置", "Task reassigned", "The event now goes to someone else")
        }
        "deadline_warning" => {
            ("即将超时", "事件当前环节即将到期", "Deadline soon", "The event's current stage is nearly due")
        }
        "supervision" => ("督办", "事件已被督办，请尽快处置", "Supervision order", "The event is under supervision"),
        "rework" => ("需要返工", "处置结果未通过核查", "Rework needed", "The resolution did not pass verification"),
        "verified" => ("核查通过", "您处置的事件已结案", "Verified", "The event you handled is closed"),
        "report_accepted" => ("上报已受理", "您上报的问题已立案", "Report accepted", "Your report was accepted"),
        "report_rejected" => {
            ("上报未受理", "您上报的问题未予立案", "Report not accepted", "Your report was not accepted")
        }
        "report_closed" => ("问题已解决", "您上报的问题已结案", "Resolved", "The problem you reported is closed"),
        "pool_open" => {
            ("志愿者任务", "社区有可认领的事件", "Volunteer task", "An event in your community can be claimed")
        }
        "dispatch_needed" => {
            ("待派遣", "有事件无人可派，请人工派遣", "Dispatch needed", "Nobody could be picked for an event")
        }
        "extension_requested" => ("延期申请", "处置人申请延期", "Extension requested", "A handler asks for more time"),
        "extension_granted" => ("延期已批准", "处置时限已延长", "Extension granted", "The deadline was extended"),
        "extension_refused" => {
            ("延期未批准", "处置时限不变，请按期完成", "Extension refused", "The deadline stands: finish on time")
        }
        "task_unacknowledged" => {
            ("任务未确认", "派出的任务未被确认", "Task not acknowledged", "An assigned task was not acknowledged")
        }
        "evidence_flagged" => (
            "照片存疑",
            "处置照片未通过位置或时间核对",
            "Photo flagged",
            "An after-photo failed the place or time check",
        ),
        "supervision_replied" => (
            "督办已回复",
            "责任单位已回复督办，请审核",
            "Supervision replied",
            "The responsible unit replied: please review",
        ),
        "supervision_closed" => {
            ("督办已办结", "督办回复已通过", "Supervision closed", "The reply to the supervision order was accepted")
        }
        "supervision_sent_back" => (
            "督办回复被退回",
            "请按要求重新回复督办",
            "Reply sent back",
            "Reply to the supervision order again, as asked",
        ),
        "emergency_declared" => {
            ("进入急时状态", "辖区已启动应急模式，请立即响应", "Emergency", "Your area switched to emergency mode")
        }
        "emergency_ended" => ("恢复平时状态", "辖区应急模式已解除", "Emergency over", "Your area is back to normal"),
        "called_on_duty" => {
            ("应急召回", "辖区进入急时状态，请尽快上岗", "Called on duty", "An emergency: please come on duty")
        }
        "alert_raised" => {
            ("预警", "感知设备监测值超过预警阈值，请研判", "Alert", "A sensor reading crossed a warning threshold")
        }
        "alert_cleared" => {
            ("预警解除", "感知设备监测值已恢复正常", "Alert cleared", "A sensor reading is back to normal")
        }
        "sensor_offline" => {
            ("设备离线", "感知设备超时未上报数据", "Sensor offline", "A sensor has not reported in time")
        }
        "hotspot" => (
            "发现热点",
            "同类问题在同一地点反复出现，请研判",
            "Hotspot",
            "The same problem keeps coming back in one place",
        ),
        "regraded" => (
            "事件已重新定级",
            "事件等级已调整，处置时限随之调整",
            "Regraded",
            "The grade changed; the deadline follows",
        ),
        "volunteer_signed_up" => (
            "志愿者报名",
            "有居民报名社区志愿者，请审核",
            "Volunteer sign-up",
            "Someone asks to volunteer: please decide",
        ),
        "volunteer_approved" => {
            ("报名已通过", "您已成为社区志愿者", "Sign-up approved", "You are now a volunteer of the community")
        }
        "volunteer_declined" => {
            ("报名未通过", "您的志愿者报名未通过", "Sign-up declined", "Your volunteer sign-up was declined")
        }
        "service_recorded" => (
            "服务已记录",
            "您处置的事件已核查结案，积分已到账",
            "Service recorded",
            "Your task was verified: points added",
        ),
        _ => ("网格通知", "您有一条新通知", "Gridwork", "You have a new notification"),
    };
    let (t, b) = if en { (en_t, en_b) } else { (zh_t, zh_b) };
    if category.is_empty() { (t.to_owned(), b.to_owned()) } else { (t.to_owned(), format!("{b} ({category})")) }
}
