// The console's words: zh-CN first, English second. Keys are the glossary's identifiers where
// there is one (states, actions), so the API's values index this table directly.
export const TEXT = {
  "zh-CN": {
    title: "Gridwork 运行管理台", signIn: "登录", logout: "退出", username: "用户名", password: "密码",
    reportedAt: "上报时间", category: "类别", description: "描述", area: "区域", state: "状态", due: "时限",
    more: "更多", live: "实时", reconnecting: "重连中…", count: (n) => `共 ${n} 条`, loggedOutIdle: "长时间未操作，已退出",
    q_reported: "待受理", q_dispatch: "待派遣", q_progress: "处置中", q_verify: "待核查", q_overdue: "超期",
    q_suspended: "挂起", q_closed: "已结案",
    timeline: "处置过程", tasks: "任务", photos: "照片", actions: "操作", reason: "理由", chain: "所在区域",
    overdue: "已超期", dueAt: "到期", none: "无", refused: "未能执行",
    before: "处置前", after: "处置后", verify: "核查",
    s_reported: "已上报", s_accepted: "已受理", s_rejected: "不予受理", s_dispatched: "已派遣", s_claimed: "已签收",
    s_returned: "已退回", s_in_progress: "处置中", s_resolved: "已办结", s_rework: "返工", s_closed: "已结案",
    s_suspended: "挂起",
    a_accept: "受理", a_reject: "不予受理", a_verify: "核查通过", a_rework: "退回返工", a_suspend: "挂起",
    a_resume: "恢复", a_escalate: "上报升级", a_supervise: "督办", a_extend: "批准延期", a_return: "收回",
    a_report: "上报", a_dispatch: "派遣", a_claim: "签收", a_start: "开始处置", a_resolve: "办结", a_merge: "合并",
    a_request_extension: "申请延期", a_deadline_warning: "时限预警", a_task_unacknowledged: "超时未签收",
    t_assigned: "已派", t_unacknowledged: "未签收", t_claimed: "已签收", t_in_progress: "处置中",
    t_resolved: "已完成", t_returned: "已退回", t_withdrawn: "已撤回", t_closed: "已结束",
    select: "选择", selected: (n) => `已选 ${n} 件`, reassignTo: "改派给", bulkReassign: "批量改派",
    bulkSupervise: "批量督办", bulkDone: (d, f) => `完成 ${d} 件，未完成 ${f} 件`, pickSomeone: "请先选择派给谁",
    dispatchTitle: "派遣 / 改派", candidates: "候选人", nobody: "暂无可派人员", current: "当前处置人",
    department: "部门", load: "在办", r_grid_on_duty: "本网格在岗", r_nearest_in_street: "本街道就近",
    r_at_task_limit: "任务已满", r_department_pool: "部门派单",
    viewEvents: "事件", viewWorkforce: "在岗人员", viewMap: "地图", layerAreas: "区域", layerEvents: "事件",
    layerWorkers: "在岗人员", mapCount: (n) => `地图上 ${n} 件未结事件`, name: "姓名", role: "角色", onDuty: "在岗", openTasks: "在办任务",
    lastSeen: "最近定位", yes: "在岗", no: "离岗", minutesAgo: (m) => `${m} 分钟前`,
    role_grid_worker: "网格员", role_dept_handler: "部门处置人员", role_volunteer: "志愿者",
    q_extension: "延期申请", q_supervised: "督办", a_refuse_extension: "不予延期", a_split: "拆分",
    extensionAsked: "处置人申请延期", mergeTitle: "合并到同类事件", mergeInto: "合并到",
    mergeNone: "附近 1 公里内没有同类未结事件", pickEvent: "请先选择要合并到的事件", splitTitle: "拆分为多件事件",
    addPart: "增加一件", splitDone: (n) => `已拆分为 ${n} 件`,
    viewEvaluation: "考核评价", evalBy: "统计单位", evalFrom: "从", evalTo: "至", evalRun: "统计", evalCsv: "下载 CSV",
    evalChart: "各单位比率", by_district: "区", by_street: "街道", by_community: "社区", by_grid: "网格",
    by_department: "部门", by_handler: "处置人", ev_unit: "单位", ev_unit_code: "单位编码", ev_reported: "上报",
    ev_closed: "结案", ev_closure_rate: "结案率", ev_closed_on_time: "按期结案", ev_on_time_rate: "按期结案率",
    ev_reworked: "返工", ev_rework_rate: "返工率", ev_extended: "延期", ev_extension_rate: "延期率",
    ev_overdue_open: "当前超期", ev_supervision_orders: "督办",
    m_title: "问题上报", m_new: "上报一个问题", m_address: "地址（可选）", m_place: "位置", m_locate: "使用我的位置",
    m_lat: "纬度", m_lng: "经度", m_photo: "照片", m_send: "提交", m_mine: "我的上报", m_choose: "请选择类别",
    m_locating: "正在定位…", m_located: (m) => `已定位（精度约 ${m} 米）`, m_noLocation: "无法获取位置，请手动填写",
    m_needCategory: "请选择类别", m_needDescription: "请描述问题", m_needPlace: "请提供位置（定位或填写经纬度）",
    m_filed: (id) => `已提交，编号 …${id}`, m_joined: (id) => `附近已有相同问题，已为您关注 …${id}`,
    m_noneYet: "还没有上报", m_reportLink: "居民、志愿者上报问题", notOps: "此账号不是运行管理人员，请使用上报页面。",
  },
  en: {
    title: "Gridwork operations console", signIn: "Sign in", logout: "Sign out", username: "Username",
    password: "Password", reportedAt: "Reported", category: "Category", description: "Description", area: "Area",
    state: "State", due: "Due", more: "More", live: "Live", reconnecting: "Reconnecting…",
    count: (n) => `${n} shown`, loggedOutIdle: "Signed out after inactivity",
    q_reported: "To accept", q_dispatch: "To dispatch", q_progress: "In progress", q_verify: "To verify",
    q_overdue: "Overdue", q_suspended: "Suspended", q_closed: "Closed",
    timeline: "Timeline", tasks: "Tasks", photos: "Photos", actions: "Actions", reason: "Reason", chain: "Areas",
    overdue: "overdue", dueAt: "due", none: "none", refused: "Not done",
    before: "Before", after: "After", verify: "Verify",
    s_reported: "reported", s_accepted: "accepted", s_rejected: "rejected", s_dispatched: "dispatched",
    s_claimed: "claimed", s_returned: "returned", s_in_progress: "in progress", s_resolved: "resolved",
    s_rework: "rework", s_closed: "closed", s_suspended: "suspended",
    a_accept: "Accept", a_reject: "Reject", a_verify: "Verify", a_rework: "Send back for rework",
    a_suspend: "Suspend", a_resume: "Resume", a_escalate: "Escalate", a_supervise: "Supervise",
    a_extend: "Approve extension", a_return: "Take back", a_report: "Reported", a_dispatch: "Dispatched",
    a_claim: "Claimed", a_start: "Started", a_resolve: "Resolved", a_merge: "Merged",
    a_request_extension: "Extension requested", a_deadline_warning: "Deadline warning",
    a_task_unacknowledged: "Not acknowledged in time",
    t_assigned: "assigned", t_unacknowledged: "unacknowledged", t_claimed: "claimed", t_in_progress: "in progress",
    t_resolved: "done", t_returned: "returned", t_withdrawn: "withdrawn", t_closed: "closed",
    select: "Select", selected: (n) => `${n} selected`, reassignTo: "Reassign to", bulkReassign: "Reassign selected",
    bulkSupervise: "Supervise selected", bulkDone: (d, f) => `${d} done, ${f} not done`,
    pickSomeone: "Choose whom to give it to first", dispatchTitle: "Dispatch / reassign", candidates: "Candidates",
    nobody: "Nobody available", current: "on it now", department: "department", load: "open tasks",
    r_grid_on_duty: "on duty in the grid", r_nearest_in_street: "nearest in the street",
    r_at_task_limit: "at the task limit", r_department_pool: "department pool",
    viewEvents: "Events", viewWorkforce: "Workforce", viewMap: "Map", layerAreas: "Areas", layerEvents: "Events",
    layerWorkers: "Workers on duty", mapCount: (n) => `${n} open events on the map`, name: "Name", role: "Role", onDuty: "On duty",
    openTasks: "Open tasks", lastSeen: "Last located", yes: "on duty", no: "off duty",
    minutesAgo: (m) => `${m} min ago`, role_grid_worker: "grid worker", role_dept_handler: "department handler",
    role_volunteer: "volunteer",
    q_extension: "Extension requests", q_supervised: "Supervised", a_refuse_extension: "Refuse extension",
    a_split: "Split", extensionAsked: "The handler asks for more time", mergeTitle: "Merge into a similar event",
    mergeInto: "Merge into", mergeNone: "No open event of this category within 1 km", pickEvent: "Choose the event to merge into first",
    splitTitle: "Split into several events", addPart: "Add a part", splitDone: (n) => `Split into ${n} events`,
    viewEvaluation: "Evaluation", evalBy: "Per", evalFrom: "From", evalTo: "To", evalRun: "Show", evalCsv: "Download CSV",
    evalChart: "Rates per unit", by_district: "district", by_street: "street", by_community: "community", by_grid: "grid",
    by_department: "department", by_handler: "handler", ev_unit: "Unit", ev_unit_code: "Unit code", ev_reported: "Reported",
    ev_closed: "Closed", ev_closure_rate: "Closure rate", ev_closed_on_time: "Closed on time", ev_on_time_rate: "On-time rate",
    ev_reworked: "Reworked", ev_rework_rate: "Rework rate", ev_extended: "Extended", ev_extension_rate: "Extension rate",
    ev_overdue_open: "Overdue now", ev_supervision_orders: "Supervision orders",
    m_title: "Report a problem", m_new: "Report a problem", m_address: "Address (optional)", m_place: "Place",
    m_locate: "Use my location", m_lat: "Latitude", m_lng: "Longitude", m_photo: "Photo", m_send: "Send",
    m_mine: "My reports", m_choose: "Choose a category", m_locating: "Locating…",
    m_located: (m) => `Located (within about ${m} m)`, m_noLocation: "No location: enter it by hand",
    m_needCategory: "Choose a category", m_needDescription: "Describe the problem",
    m_needPlace: "Give the place (locate or enter latitude and longitude)",
    m_filed: (id) => `Sent, number …${id}`, m_joined: (id) => `The same problem was already reported nearby: you now follow …${id}`,
    m_noneYet: "No reports yet", m_reportLink: "Residents and volunteers: report a problem",
    notOps: "This account does not steer operations: use the report page.",
  },
};

let lang = "zh-CN";

export function setLang(l) { lang = l; document.documentElement.lang = l; }
export function currentLang() { return lang; }

/** The word for `key`, or the key itself (an unknown value from a newer server stays readable). */
export function t(key, ...args) {
  const v = TEXT[lang][key] ?? TEXT["zh-CN"][key];
  if (typeof v === "function") return v(...args);
  return v ?? key.replace(/^[a-z]_/, "");
}

/** Dates in the city's time (Asia/Shanghai), whatever the browser's zone. */
export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang, { timeZone: "Asia/Shanghai", hour12: false,
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}
