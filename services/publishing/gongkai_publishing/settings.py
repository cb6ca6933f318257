"""Publishing settings: environment variables prefixed ``GONGKAI_PUBLISHING_``."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gongkai_shared.settings import ServiceSettings


class PublishingSettings(ServiceSettings):
    """Not a FileServiceSettings: publishing stores and serves only public files, so it has no
    ``GONGKAI_FILES_KEY`` (files.store_of gives it a store that cannot decrypt)."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_PUBLISHING_", extra="ignore", populate_by_name=True)
    http_port: int = 8003
    agency_code: str = "000000000"  # 机关代码 (or the 18-character unified social credit code)
    # 索引号 format; formats vary by province: {agency}, {year}, {seq} are available
    index_format: str = "{agency}/{year}-{seq:05d}"
    reaction_max_backoff: float = 60.0
    # the largest file of a document accepted (POST /api/v1/information/files), as review's and
    # intake's uploads; the edge allows a little more on that route only (gongkai_local/routes.py)
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    # 政府信息公开指南 (条例 Art. 12, DOMAIN §7), rendered on /gongkai: the agency and its office
    # for government information disclosure. Placeholders for a demonstration: set them in earnest.
    agency_name: str = "某市人民政府"
    office_name: str = "某市人民政府办公室（政府信息公开工作机构）"
    office_address: str = "某市某区人民路1号"
    office_postcode: str = "000000"
    office_hours: str = "工作日上午9:00-12:00，下午13:30-17:30（法定节假日除外）"
    office_phone: str = "0000-00000000"
    office_fax: str = "0000-00000001"
    office_email: str = "gongkai@example.gov.cn"
    # how information is classified and how to ask for it, in the guide's words (one paragraph
    # per line); empty: the guide's standard text (pages.py) naming the categories and /apply
    guide_classification: str = ""
    guide_application: str = ""
    # the public address of the site, for the Atom feed's links and ids (no trailing slash)
    public_url: str = "http://127.0.0.1:8000"
    feed_items: int = Field(default=50, ge=1, le=500)  # entries in /gongkai/feed.atom
